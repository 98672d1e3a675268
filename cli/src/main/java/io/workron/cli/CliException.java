package io.workron.cli;

/** Ends the command with one line on stderr and the exit code it names; never a stack trace. */
final class CliException extends RuntimeException {

  private final int exitCode;
  private final int httpStatus;

  CliException(int exitCode, String message) {
    this(exitCode, 0, message);
  }

  CliException(int exitCode, int httpStatus, String message) {
    super(message, null, false, false);
    this.exitCode = exitCode;
    this.httpStatus = httpStatus;
  }

  int exitCode() {
    return exitCode;
  }

  /**
   * Whether asking again later may succeed: the gateway was not reached, or answered 429 or a 5xx
   * (Kafka or scheduler-core down for a moment, a restart).
   */
  boolean passing() {
    return exitCode == ExitCodes.UNREACHABLE || httpStatus == 429 || httpStatus >= 500;
  }
}
