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
    List<RunningAttempt> running) {

  public static final String TYPE = "worker.heartbeat.v1";

  /** One attempt the worker is running now. */
  public record RunningAttempt(@JsonProperty("job_id") String jobId, int attempt) {}
}
