package io.workron.scheduler.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class QueueBudgetTest {

  private static final Function<QueueBudget.Job, QueueBudget.Job> SELF = j -> j;

  @Test
  void aQueueAtItsLimitIsClosedAndOneBelowItAdmitsOnlyWhatFitsInPriorityOrder() {
    QueueBudget budget =
        new QueueBudget(
            Map.of("limited", new QueueBudget.Limits(2, null, false)),
            Map.of("limited", 1),
            Map.of());
    List<QueueBudget.Job> candidates =
        List.of(job("a", "limited"), job("b", "other"), job("c", "limited"), job("d", "other"));

    assertThat(budget.closedQueues()).isEmpty();
    assertThat(budget.admit(candidates, SELF))
        .extracting(QueueBudget.Job::id)
        .containsExactly("a", "b", "d");

    budget.started(List.of(job("a", "limited")));
    assertThat(budget.closedQueues()).containsExactly("limited");
    assertThat(budget.admit(candidates, SELF))
        .extracting(QueueBudget.Job::id)
        .containsExactly("b", "d");
  }

  @Test
  void aPausedQueueAdmitsNothing() {
    QueueBudget budget =
        new QueueBudget(
            Map.of("held", new QueueBudget.Limits(null, null, true)), Map.of(), Map.of());

    assertThat(budget.closedQueues()).containsExactly("held");
    assertThat(budget.admit(List.of(job("a", "held"), job("b", "free")), SELF))
        .extracting(QueueBudget.Job::id)
        .containsExactly("b");
  }

  @Test
  void aKeyAtItsLimitIsFullWhileOtherKeysAndJobsWithoutAKeyGoOn() {
    QueueBudget budget =
        new QueueBudget(
            Map.of("q", new QueueBudget.Limits(null, 1, false)),
            Map.of("q", 1),
            Map.of(List.of("q", "cust-a"), 1));
    List<QueueBudget.Job> candidates =
        List.of(
            keyed("a2", "cust-a"),
            keyed("b1", "cust-b"),
            keyed("b2", "cust-b"),
            keyed("n1", null),
            keyed("n2", null));

    assertThat(budget.fullKeys()).containsExactly(List.of("q", "cust-a"));
    assertThat(budget.admit(candidates, SELF))
        .extracting(QueueBudget.Job::id)
        .containsExactly("b1", "n1", "n2");
  }

  private static QueueBudget.Job job(String id, String queue) {
    return new QueueBudget.Job(id, queue, null);
  }

  private static QueueBudget.Job keyed(String id, String key) {
    return new QueueBudget.Job(id, "q", key);
  }
}
