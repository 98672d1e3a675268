package io.workron.schemas;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;

/** Payload of {@code job.result.v1}: how one attempt ended, as seen by the worker that ran it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobResult(
    @JsonProperty("job_id") String jobId,
    int attempt,
    @JsonProperty("worker_id") String workerId,
    String incarnation,
    Outcome outcome,
    @JsonProperty("exit_code") Integer exitCode,
    @JsonProperty("started_at") Instant startedAt,
    @JsonProperty("finished_at") Instant finishedAt,
    @JsonProperty("duration_ms") Long durationMs,
    @JsonProperty("output_tail") String outputTail,
    @JsonProperty("output_truncated") Boolean outputTruncated,
    String reason) {

  public static final String TYPE = "job.result.v1";

  /** Most output a result carries: the last 64 KiB. */
  public static final int MAX_OUTPUT_BYTES = 64 * 1024;

  /** How an attempt ended. */
  public enum Outcome {
    @JsonProperty("succeeded")
    SUCCEEDED,
    @JsonProperty("failed")
    FAILED,
    /** Stopped by the worker itself (shutdown); the attempt does not count against retries. */
    @JsonProperty("interrupted")
    INTERRUPTED
  }
}
