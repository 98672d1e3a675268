package io.workron.scheduler.core;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with equal jitter between attempts: the n-th retry waits a random time in
 * [base·2ⁿ⁻¹ / 2, base·2ⁿ⁻¹], capped at {@code max}.
 */
public record RetryPolicy(Duration base, Duration max) {

  public static final RetryPolicy DEFAULT =
      new RetryPolicy(Duration.ofSeconds(1), Duration.ofMinutes(5));

  /** Delay before the attempt after {@code failedAttempt} (1-based). */
  public Duration delayAfter(int failedAttempt, RandomGenerator random) {
    int exponent = Math.max(0, Math.min(failedAttempt - 1, 30));
    long ceiling = Math.min(max.toMillis(), base.toMillis() << exponent);
    if (ceiling <= 0) {
      return Duration.ZERO;
    }
    long half = ceiling / 2;
    return Duration.ofMillis(half + random.nextLong(ceiling - half + 1));
  }
}
