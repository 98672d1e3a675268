package io.workron.bench;

/** A phase could not produce a measurement: the message says what went wrong, for a human. */
final class BenchFailure extends RuntimeException {

  BenchFailure(String message) {
    super(message);
  }

  BenchFailure(String message, Throwable cause) {
    super(message, cause);
  }
}
