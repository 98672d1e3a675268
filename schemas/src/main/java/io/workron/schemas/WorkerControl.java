package io.workron.schemas;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Payload of {@code worker.control.v1}: an order from scheduler-core to one incarnation of a
 * worker, on that worker's dispatch topic, in order with its dispatches. A worker acts only on
 * orders for its own incarnation.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record WorkerControl(
    @JsonProperty("worker_id") String workerId, String incarnation, Action action, String reason) {

  public static final String TYPE = "worker.control.v1";

  /** What the worker is told to do. */
  public enum Action {
    /**
     * A newer incarnation of this worker id has announced itself: this process must stop taking
     * work and stop what it runs (its attempts were taken back when the newer one registered).
     */
    @JsonProperty("superseded")
    SUPERSEDED
  }
}
