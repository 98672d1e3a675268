package io.workron.gateway.http;

/**
 * A dependency (Kafka or scheduler-core) did not answer in time, failed, or its circuit breaker is
 * open: 503 with {@code Retry-After}. The client may retry; nothing is known to have happened.
 */
public final class UnavailableException extends RuntimeException {

  private final String dependency;

  public UnavailableException(String dependency, String detail, Throwable cause) {
    super(detail, cause);
    this.dependency = dependency;
  }

  /** {@code kafka} or {@code scheduler-core}. */
  public String dependency() {
    return dependency;
  }
}
