package io.workron.gateway.http;

/**
 * The gateway has as much work in progress as it admits: 429 with {@code Retry-After}, answered at
 * once. Nothing was done for the request, so retrying it is always safe.
 */
public final class OverloadedException extends RuntimeException {

  public OverloadedException(String detail) {
    super(detail);
  }
}
