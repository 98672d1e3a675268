package io.workron.cli;

/**
 * What {@code workron} exits with. A job waited for with {@code --wait} gives its own exit code
 * when it has one; the codes above 120 are the outcomes a job's own code cannot say.
 */
public final class ExitCodes {

  /** Done; for {@code --wait}, the job ended {@code done} (its command exited 0). */
  public static final int OK = 0;

  /** The gateway refused or failed the request (a 4xx not listed below, a 5xx). */
  public static final int FAILED = 1;

  /** A usage error: an unknown option, a missing argument, a malformed value. */
  public static final int USAGE = 2;

  /** The gateway could not be reached, or did not answer in time (30 s). */
  public static final int UNREACHABLE = 3;

  /** The gateway asked for a token (401) or the token lacks the scope (403). */
  public static final int DENIED = 4;

  /** No such job, gang, queue or schedule (404). */
  public static final int NOT_FOUND = 5;

  /** {@code --wait}: the job failed with no exit code of its own (e.g. its worker was lost). */
  public static final int JOB_FAILED = 120;

  /** {@code --wait}: the job never ran: no worker offers what it asks for. */
  public static final int UNSCHEDULABLE = 122;

  /** {@code --wait}: the job ran past its timeout and was stopped (as GNU timeout's 124). */
  public static final int TIMED_OUT = 124;

  /** {@code --wait}: the job (or its gang) was cancelled. */
  public static final int CANCELLED = 125;

  private ExitCodes() {}
}
