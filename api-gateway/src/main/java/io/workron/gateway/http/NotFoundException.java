package io.workron.gateway.http;

/** The thing asked for does not exist: 404. */
public final class NotFoundException extends RuntimeException {

  public NotFoundException(String detail) {
    super(detail);
  }
}
