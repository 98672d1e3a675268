package io.workron.schemas;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Map;

/**
 * Payload of {@code job.dispatch.v1}: run attempt {@code attempt} of a job on one incarnation.
 *
 * @param timeoutSeconds longest the attempt may run (null: no limit); a worker too old to know the
 *     field ignores it, and scheduler-core's reaper ends the attempt instead
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobDispatch(
    @JsonProperty("job_id") String jobId,
    int attempt,
    @JsonProperty("worker_id") String workerId,
    String incarnation,
    String command,
    Map<String, String> env,
    Resources resources,
    @JsonProperty("timeout_seconds") Integer timeoutSeconds,
    Integer epoch,
    String checkpoint,
    @JsonProperty("checkpoint_max_bytes") Integer checkpointMaxBytes) {

  public static final String TYPE = "job.dispatch.v1";

  /** A dispatch with a time limit, without checkpoint fields (as sent before they existed). */
  public JobDispatch(
      String jobId,
      int attempt,
      String workerId,
      String incarnation,
      String command,
      Map<String, String> env,
      Resources resources,
      Integer timeoutSeconds) {
    this(
        jobId,
        attempt,
        workerId,
        incarnation,
        command,
        env,
        resources,
        timeoutSeconds,
        null,
        null,
        null);
  }

  /** A dispatch without a time limit. */
  public JobDispatch(
      String jobId,
      int attempt,
      String workerId,
      String incarnation,
      String command,
      Map<String, String> env,
      Resources resources) {
    this(jobId, attempt, workerId, incarnation, command, env, resources, null);
  }
}
