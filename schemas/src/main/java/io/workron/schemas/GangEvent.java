package io.workron.schemas;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * Payload of {@code gang.event.v1}: something happened to a gang as a whole, on {@code
 * workron.job-events} keyed by the gang id, beside its tasks' {@code job.event.v1}.
 *
 * @param event {@code admitted} (all tasks placed at once), {@code drain_started} (a task failed,
 *     timed out or lost its worker, or the gang is preempted: the others are ordered stopped) or
 *     {@code drain_ended} (every task is drained; {@code outcome} says what follows)
 * @param epoch the drain round (for {@code admitted}, the round the tasks run in)
 * @param workers for {@code admitted}: the workers of tasks 0..N-1
 * @param triggerJob for a drain: the task that caused it, if one did
 * @param outcome for {@code drain_ended}: {@code blocked} (the gang waits to run again) or {@code
 *     failed}
 * @param acks for {@code drain_ended}: how many ordered stops were acknowledged
 * @param drainMs for {@code drain_ended}: how long the round took
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GangEvent(
    @JsonProperty("gang_id") String gangId,
    Kind event,
    int epoch,
    int size,
    List<String> workers,
    @JsonProperty("trigger_job") String triggerJob,
    String reason,
    String outcome,
    Integer acks,
    @JsonProperty("drain_ms") Long drainMs) {

  public static final String TYPE = "gang.event.v1";

  /** What happened. */
  public enum Kind {
    @JsonProperty("admitted")
    ADMITTED,
    @JsonProperty("drain_started")
    DRAIN_STARTED,
    @JsonProperty("drain_ended")
    DRAIN_ENDED
  }
}
