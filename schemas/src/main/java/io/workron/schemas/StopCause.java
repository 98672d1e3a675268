package io.workron.schemas;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Why an attempt was stopped before it ended by itself: the {@code cause} of {@code job.stop.v1}
 * and the optional {@code stop_cause} of {@code job.result.v1}. A result keeps v1's closed {@code
 * outcome} values ({@code interrupted} for every stop but a timeout, which is {@code failed}: it
 * counts as a failed attempt) so an older reader still applies it; the cause says more to a reader
 * that knows it.
 */
public enum StopCause {
  @JsonProperty("cancelled")
  CANCELLED,
  @JsonProperty("timed_out")
  TIMED_OUT,
  @JsonProperty("taken_back")
  TAKEN_BACK,
  @JsonProperty("preempted")
  PREEMPTED,
  @JsonProperty("shutdown")
  SHUTDOWN;

  /** Why an attempt that ran past its {@code timeout_seconds} ended, whoever enforced it. */
  public static String timedOutAfter(Integer timeoutSeconds) {
    return "timed out after " + timeoutSeconds + " s";
  }

  /** The name on the wire ({@code taken_back}). */
  public String wire() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
