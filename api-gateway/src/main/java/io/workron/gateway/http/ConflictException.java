package io.workron.gateway.http;

import java.util.Map;

/** The request cannot be done in the thing's present state (a finished job is cancelled): 409. */
public final class ConflictException extends RuntimeException {

  private final Map<String, Object> properties;

  /** {@code properties} are added to the problem body (for example the job's {@code status}). */
  public ConflictException(String detail, Map<String, Object> properties) {
    super(detail);
    this.properties = Map.copyOf(properties);
  }

  public Map<String, Object> properties() {
    return properties;
  }
}
