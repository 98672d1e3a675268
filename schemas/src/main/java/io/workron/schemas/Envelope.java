package io.workron.schemas;

import java.time.Instant;
import java.util.Objects;

/**
 * What every message on a Workron topic looks like: a logical type with its version, a message id,
 * the time it was written, and the payload. Request and trace ids travel as Kafka headers.
 */
public record Envelope<P>(String type, String id, Instant time, P payload) {
  public Envelope {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(time, "time");
    Objects.requireNonNull(payload, "payload");
  }
}
