package io.workron.scheduler.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.workron.schemas.JobResult;
import io.workron.schemas.JobResult.Outcome;
import java.time.Duration;
import java.time.Instant;
import java.util.Random;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.Test;

class AttemptVerdictTest {

  private static final Instant NOW = Instant.parse("2026-11-29T12:00:00Z");
  private final RetryPolicy policy = new RetryPolicy(Duration.ofSeconds(1), Duration.ofSeconds(60));

  private static JobResult result(Outcome outcome, Integer exitCode) {
    return new JobResult("j", 1, "w", "i", outcome, exitCode, NOW, NOW, 0L, "", false, null);
  }

  @Test
  void exitCodeZeroIsDone() {
    AttemptVerdict v =
        AttemptVerdict.of(result(Outcome.SUCCEEDED, 0), 1, 3, policy, NOW, new Random(1));
    assertThat(v.status()).isEqualTo(JobStatus.DONE);
  }

  @Test
  void failureWithAttemptsLeftIsRetriedLaterKeepingTheReason() {
    AttemptVerdict v =
        AttemptVerdict.of(result(Outcome.FAILED, 3), 1, 3, policy, NOW, new Random(1));

    assertThat(v.kind()).isEqualTo(AttemptVerdict.Kind.RETRY);
    assertThat(v.status()).isEqualTo(JobStatus.PENDING);
    assertThat(v.runAt()).isAfter(NOW);
    assertThat(v.reason()).isEqualTo("exit code 3");
  }

  @Test
  void maxRetriesIsTheTotalNumberOfAttemptsAsInTheSeed() {
    AttemptVerdict third =
        AttemptVerdict.of(result(Outcome.FAILED, 1), 3, 3, policy, NOW, new Random(1));
    AttemptVerdict second =
        AttemptVerdict.of(result(Outcome.FAILED, 1), 2, 3, policy, NOW, new Random(1));

    assertThat(third.status()).isEqualTo(JobStatus.FAILED);
    assertThat(second.status()).isEqualTo(JobStatus.PENDING);
  }

  @Test
  void anInterruptedAttemptIsRequeuedAtOnceEvenWithNoAttemptsLeft() {
    AttemptVerdict v =
        AttemptVerdict.of(result(Outcome.INTERRUPTED, null), 3, 3, policy, NOW, new Random(1));

    assertThat(v.kind()).isEqualTo(AttemptVerdict.Kind.REQUEUE);
    assertThat(v.runAt()).isEqualTo(NOW);
  }

  @RepeatedTest(20)
  void backoffDoublesPerAttemptWithJitterAndIsCapped() {
    Random random = new Random();
    assertThat(policy.delayAfter(1, random))
        .isBetween(Duration.ofMillis(500), Duration.ofSeconds(1));
    assertThat(policy.delayAfter(3, random))
        .isBetween(Duration.ofSeconds(2), Duration.ofSeconds(4));
    assertThat(policy.delayAfter(30, random))
        .isBetween(Duration.ofSeconds(30), Duration.ofSeconds(60));
  }

  @Test
  void terminalStatusesHaveNoWayOut() {
    for (JobStatus s : JobStatus.values()) {
      assertThat(s.isTerminal())
          .as(s.wire())
          .isEqualTo(s == JobStatus.DONE || s == JobStatus.FAILED || s == JobStatus.CANCELLED);
    }
    assertThat(JobStatus.RUNNING.canMoveTo(JobStatus.DONE)).isTrue();
    assertThat(JobStatus.DONE.canMoveTo(JobStatus.PENDING)).isFalse();
    assertThat(JobStatus.fromWire("pending")).isEqualTo(JobStatus.PENDING);
  }
}
