package io.workron.schemas;

/**
 * A message that cannot be accepted. Consumers send it to the dead-letter topic with {@link
 * #reason()} and {@link #getMessage()} as headers; the gateway turns it into a 400.
 */
public final class InvalidMessageException extends Exception {

  /** Why a message was refused. Written to the {@code workron-dlq-reason} header. */
  public enum Reason {
    MALFORMED_JSON,
    SCHEMA_INVALID,
    UNKNOWN_TYPE,
    WRONG_TYPE,
    TOO_LARGE,
    /** Valid by its schema, but the database refuses to store it (a constraint, a bad value). */
    REJECTED_BY_STORE,
    /** A job that depends on itself, or whose dependencies would close a cycle. */
    DEPENDENCY_CYCLE
  }

  private final Reason reason;
  private final String field;

  public InvalidMessageException(Reason reason, String field, String message) {
    super(message);
    this.reason = reason;
    this.field = field;
  }

  public Reason reason() {
    return reason;
  }

  /** JSON pointer-like path of the offending field ({@code /payload/command}), or empty. */
  public String field() {
    return field;
  }
}
