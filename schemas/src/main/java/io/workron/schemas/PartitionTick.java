package io.workron.schemas;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Payload of {@code partition.tick.v1}: a record scheduler-core writes to every partition of the
 * heartbeats and results topics once a second, with the header {@link Topics#TICK_HEADER}. Its only
 * meaning is its broker timestamp: having read it, a consumer knows that everything appended to
 * that partition before that time has been read, even when no worker wrote anything. Liveness is
 * judged from these watermarks, never from when scheduler-core happened to read a heartbeat.
 */
public record PartitionTick(@JsonProperty("replica_id") String replicaId) {

  public static final String TYPE = "partition.tick.v1";
}
