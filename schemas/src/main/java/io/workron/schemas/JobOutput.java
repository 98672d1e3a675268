package io.workron.schemas;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Payload of {@code job.output.v1}: the recent output of an attempt that is still running, sent by
 * its worker every few seconds while it changes, on the results topic keyed by the job id (so it
 * never overtakes the attempt's result). Best effort: a lost one is replaced by the next, and the
 * result carries the final tail.
 *
 * @param outputTail the newest output, at most {@link #MAX_TAIL_CHARS} characters
 * @param outputTruncated whether older output was left out
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobOutput(
    @JsonProperty("job_id") String jobId,
    int attempt,
    @JsonProperty("worker_id") String workerId,
    String incarnation,
    @JsonProperty("output_tail") String outputTail,
    @JsonProperty("output_truncated") boolean outputTruncated) {

  public static final String TYPE = "job.output.v1";

  /** Most characters of output one progress message carries. */
  public static final int MAX_TAIL_CHARS = 16384;
}
