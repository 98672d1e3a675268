package io.workron.schemas;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Payload of {@code job.stop.v1}: stop one attempt, on the worker's dispatch topic keyed by the job
 * id, so it never overtakes that attempt's dispatch. The worker acts only on stops for its own
 * incarnation and reports the attempt {@code interrupted} with {@link #cause()} as its {@code
 * stop_cause}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobStop(
    @JsonProperty("job_id") String jobId,
    int attempt,
    @JsonProperty("worker_id") String workerId,
    String incarnation,
    StopCause cause,
    String reason,
    Integer epoch) {

  public static final String TYPE = "job.stop.v1";

  /** A stop that is not part of a drain round (no epoch). */
  public JobStop(
      String jobId,
      int attempt,
      String workerId,
      String incarnation,
      StopCause cause,
      String reason) {
    this(jobId, attempt, workerId, incarnation, cause, reason, null);
  }
}
