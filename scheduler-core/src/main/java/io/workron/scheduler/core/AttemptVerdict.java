package io.workron.scheduler.core;

import io.workron.schemas.JobResult;
import java.time.Instant;
import java.util.random.RandomGenerator;

/**
 * What a reported attempt means for its job. The seed's meaning of {@code max_retries} is kept: it
 * is the total number of attempts that count. Attempts the job did not cause (interrupted by a
 * worker's shutdown) do not count.
 *
 * @param kind what happens next
 * @param runAt when a re-queued job may run again (null unless re-queued)
 * @param reason why the attempt ended, kept on the job and its history (null on success)
 */
public record AttemptVerdict(Kind kind, Instant runAt, String reason) {

  /** The possible outcomes. */
  public enum Kind {
    /** Exit code 0: the job is done. */
    DONE(JobStatus.DONE),
    /** Failed with attempts left: pending again after a backoff. */
    RETRY(JobStatus.PENDING),
    /** Stopped by the worker itself: pending again at once, and the attempt does not count. */
    REQUEUE(JobStatus.PENDING),
    /** Failed with no attempts left. */
    FAILED(JobStatus.FAILED);

    private final JobStatus status;

    Kind(JobStatus status) {
      this.status = status;
    }

    public JobStatus status() {
      return status;
    }
  }

  public JobStatus status() {
    return kind.status();
  }

  /**
   * @param countedAttempts attempts so far that count against {@code maxRetries}, this one included
   */
  public static AttemptVerdict of(
      JobResult result,
      int countedAttempts,
      int maxRetries,
      RetryPolicy policy,
      Instant now,
      RandomGenerator random) {
    String reason =
        result.reason() != null && !result.reason().isBlank()
            ? result.reason()
            : result.exitCode() == null ? "failed" : "exit code " + result.exitCode();
    return switch (result.outcome()) {
      case SUCCEEDED -> new AttemptVerdict(Kind.DONE, null, null);
      case INTERRUPTED -> new AttemptVerdict(Kind.REQUEUE, now, reason);
      case FAILED ->
          attemptsUsedUp(countedAttempts, maxRetries)
              ? new AttemptVerdict(Kind.FAILED, null, reason)
              : new AttemptVerdict(
                  Kind.RETRY, now.plus(policy.delayAfter(countedAttempts, random)), reason);
    };
  }

  /**
   * Whether a job whose failed or lost attempt was its {@code countedAttempts}-th that counts has
   * no attempt left: the one rule for results and take-backs alike.
   */
  public static boolean attemptsUsedUp(int countedAttempts, int maxRetries) {
    return countedAttempts >= maxRetries;
  }
}
