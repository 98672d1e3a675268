package io.workron.schemas;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * Payload of {@code worker.heartbeat.v1}. The first one a worker process sends registers it (and
 * its incarnation); every later one refreshes its liveness and lists the attempts it is running.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record WorkerHeartbeat(
    @JsonProperty("worker_id") String workerId,
    String incarnation,
    int slots,
    Resources resources,
    List<String> tags,
    @JsonProperty("exec_addr") String execAddr,
    List<RunningAttempt> running,
    State state,
    @JsonProperty("sent_at") java.time.Instant sentAt) {

  public static final String TYPE = "worker.heartbeat.v1";

  /** Where the worker process is in its life; absent means {@link State#ACTIVE}. */
  public enum State {
    /** Takes dispatches. */
    @JsonProperty("active")
    ACTIVE,
    /** Shutting down: finishing what it holds, must get nothing new. */
    @JsonProperty("stopping")
    STOPPING,
    /** The incarnation's last heartbeat: anything it still held will not be reported. */
    @JsonProperty("stopped")
    STOPPED
  }

  /** As sent by workers before {@code sent_at} was added. */
  public WorkerHeartbeat(
      String workerId,
      String incarnation,
      int slots,
      Resources resources,
      List<String> tags,
      String execAddr,
      List<RunningAttempt> running,
      State state) {
    this(workerId, incarnation, slots, resources, tags, execAddr, running, state, null);
  }

  /** The state, reading an absent one as {@link State#ACTIVE}. */
  public State stateOrActive() {
    return state == null ? State.ACTIVE : state;
  }

  /** One attempt the worker is running now. */
  public record RunningAttempt(@JsonProperty("job_id") String jobId, int attempt) {}
}
