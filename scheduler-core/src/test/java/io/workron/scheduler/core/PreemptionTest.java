package io.workron.scheduler.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.workron.scheduler.core.DispatchPlanner.WorkerCapacity;
import io.workron.scheduler.core.Preemption.Demand;
import io.workron.scheduler.core.Preemption.Running;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import org.junit.jupiter.api.Test;

class PreemptionTest {

  private static final OffsetDateTime NOW = OffsetDateTime.parse("2026-12-01T12:00:00Z");
  private final Preemption preemption = new Preemption(Duration.ofMinutes(5));

  /** A worker of one slot, full. */
  private static WorkerCapacity full(String id) {
    return new WorkerCapacity(id, id + "-i", 1, 0, 0, 1, 0, 0);
  }

  private static Running job(
      String id, String worker, int priority, boolean preemptible, int minutesAgo) {
    return new Running(id, null, worker, priority, 0, 0, preemptible, NOW.minusMinutes(minutesAgo));
  }

  @Test
  void theLowestPriorityPreemptibleJobIsChosenAndNonPreemptibleWorkIsNeverTouched() {
    List<WorkerCapacity> ws = List.of(full("a"), full("b"), full("c"));
    List<Running> running =
        List.of(
            job("keep", "a", -10, false, 60),
            job("low", "b", 1, true, 60),
            job("lower", "c", 0, true, 60));

    var plan = preemption.plan(new Demand("urgent", 10, 1, 0, 0), ws, running, NOW);

    assertThat(plan).hasValueSatisfying(p -> assertThat(p.victims()).containsExactly("lower"));
    assertThat(plan.get().workers()).containsExactly("c");
  }

  @Test
  void workThatStartedWithinTheMinimumRunTimeOrIsNotLowerPriorityIsLeftAlone() {
    List<WorkerCapacity> ws = List.of(full("a"), full("b"));
    List<Running> running = List.of(job("young", "a", 0, true, 1), job("peer", "b", 10, true, 60));

    assertThat(preemption.plan(new Demand("urgent", 10, 1, 0, 0), ws, running, NOW)).isEmpty();
  }

  @Test
  void aGangTakesTheCheapestDistinctWorkersAndAVictimGangIsStoppedWhole() {
    List<WorkerCapacity> ws = List.of(full("a"), full("b"), full("c"));
    List<Running> running =
        List.of(
            new Running("g-0", "g", "a", 0, 0, 0, true, NOW.minusMinutes(30)),
            new Running("g-1", "g", "b", 0, 0, 0, true, NOW.minusMinutes(30)),
            job("other", "c", 5, true, 60));

    var plan = preemption.plan(new Demand("big", 10, 2, 0, 0), ws, running, NOW);

    assertThat(plan).hasValueSatisfying(p -> assertThat(p.victims()).containsExactly("g"));
    assertThat(plan.get().workers()).containsExactlyInAnyOrder("a", "b");
  }

  @Test
  void resourcesDecideHowManyVictimsAWorkerNeeds() {
    List<WorkerCapacity> ws = List.of(new WorkerCapacity("a", "a-i", 4, 16000, 0, 2, 16000, 0));
    List<Running> running =
        List.of(
            new Running("x", null, "a", 0, 8000, 0, true, NOW.minusMinutes(10)),
            new Running("y", null, "a", 1, 8000, 0, true, NOW.minusMinutes(20)));

    var plan = preemption.plan(new Demand("big", 10, 1, 12000, 0), ws, running, NOW);

    assertThat(plan).hasValueSatisfying(p -> assertThat(p.victims()).containsExactly("x", "y"));
    assertThat(preemption.plan(new Demand("huge", 10, 1, 32000, 0), ws, running, NOW)).isEmpty();
  }
}
