package io.workron.scheduler.consume;

import io.workron.schemas.InvalidMessageException;

/**
 * Thrown while applying records when one of them breaks a rule that can only be checked against the
 * stored state (a dependency cycle). The {@link PollApplier} then applies the poll one record at a
 * time and dead-letters the one that still throws, with this reason.
 */
public final class RecordRefused extends RuntimeException {

  private final InvalidMessageException.Reason reason;
  private final String field;

  public RecordRefused(InvalidMessageException.Reason reason, String field, String message) {
    super(message);
    this.reason = reason;
    this.field = field;
  }

  InvalidMessageException asInvalidMessage() {
    return new InvalidMessageException(reason, field, getMessage());
  }
}
