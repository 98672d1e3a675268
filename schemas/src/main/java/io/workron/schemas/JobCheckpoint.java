package io.workron.schemas;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Payload of {@code job.checkpoint.v1}: what a running attempt left in its {@code
 * WORKRON_CHECKPOINT_FILE}, shipped by its worker when the file changed, on the results topic keyed
 * by the job id. Bound to the attempt and the epoch (drain round) it was written in.
 *
 * @param data the file's bytes, base64; null when {@code refused}
 * @param refused why the file was not shipped (too big)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobCheckpoint(
    @JsonProperty("job_id") String jobId,
    int attempt,
    int epoch,
    @JsonProperty("worker_id") String workerId,
    String incarnation,
    String data,
    String refused) {

  public static final String TYPE = "job.checkpoint.v1";

  /**
   * Longest {@code CHECKPOINT_DATA} value set in a command's environment: Linux refuses to {@code
   * exec} with one environment string ({@code NAME=value}) over 128 KiB (MAX_ARG_STRLEN), so a
   * checkpoint above 96,000 bytes (its base64 and the name stay under it) is only in the file.
   */
  public static final int MAX_ENV_BYTES = 96_000;
}
