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
    String reason,
    @JsonProperty("stop_cause") StopCause stopCause,
    Integer epoch,
    String checkpoint,
    @JsonProperty("checkpoint_refused") String checkpointRefused) {

  public static final String TYPE = "job.result.v1";

  /** A result without a checkpoint. */
  public JobResult(
      String jobId,
      int attempt,
      String workerId,
      String incarnation,
      Outcome outcome,
      Integer exitCode,
      Instant startedAt,
      Instant finishedAt,
      Long durationMs,
      String outputTail,
      Boolean outputTruncated,
      String reason,
      StopCause stopCause,
      Integer epoch) {
    this(
        jobId,
        attempt,
        workerId,
        incarnation,
        outcome,
        exitCode,
        startedAt,
        finishedAt,
        durationMs,
        outputTail,
        outputTruncated,
        reason,
        stopCause,
        epoch,
        null,
        null);
  }

  /** The same result, carrying the checkpoint the command left (base64) or why it was not. */
  public JobResult withCheckpoint(String base64, String refusedWhy) {
    return new JobResult(
        jobId,
        attempt,
        workerId,
        incarnation,
        outcome,
        exitCode,
        startedAt,
        finishedAt,
        durationMs,
        outputTail,
        outputTruncated,
        reason,
        stopCause,
        epoch,
        base64,
        refusedWhy);
  }

  /** The same result, acknowledging drain round {@code round}. */
  public JobResult inEpoch(Integer round) {
    return new JobResult(
        jobId,
        attempt,
        workerId,
        incarnation,
        outcome,
        exitCode,
        startedAt,
        finishedAt,
        durationMs,
        outputTail,
        outputTruncated,
        reason,
        stopCause,
        round,
        checkpoint,
        checkpointRefused);
  }

  /** A result that is not a drain round's acknowledgement (no epoch). */
  public JobResult(
      String jobId,
      int attempt,
      String workerId,
      String incarnation,
      Outcome outcome,
      Integer exitCode,
      Instant startedAt,
      Instant finishedAt,
      Long durationMs,
      String outputTail,
      Boolean outputTruncated,
      String reason,
      StopCause stopCause) {
    this(
        jobId,
        attempt,
        workerId,
        incarnation,
        outcome,
        exitCode,
        startedAt,
        finishedAt,
        durationMs,
        outputTail,
        outputTruncated,
        reason,
        stopCause,
        null);
  }

  /** A result of an attempt that ended by itself or could not start (no stop cause). */
  public JobResult(
      String jobId,
      int attempt,
      String workerId,
      String incarnation,
      Outcome outcome,
      Integer exitCode,
      Instant startedAt,
      Instant finishedAt,
      Long durationMs,
      String outputTail,
      Boolean outputTruncated,
      String reason) {
    this(
        jobId,
        attempt,
        workerId,
        incarnation,
        outcome,
        exitCode,
        startedAt,
        finishedAt,
        durationMs,
        outputTail,
        outputTruncated,
        reason,
        null,
        null);
  }

  /** Most output a result carries: the last 64 KiB. */
  public static final int MAX_OUTPUT_BYTES = 64 * 1024;

  /** How an attempt ended. */
  public enum Outcome {
    @JsonProperty("succeeded")
    SUCCEEDED,
    @JsonProperty("failed")
    FAILED,
    /**
     * Stopped before it ended by itself: by the worker's shutdown, or by a {@code job.stop.v1}
     * ({@code stop_cause} says which). Kept for every stop so a reader of v1 applies it.
     */
    @JsonProperty("interrupted")
    INTERRUPTED
  }
}
