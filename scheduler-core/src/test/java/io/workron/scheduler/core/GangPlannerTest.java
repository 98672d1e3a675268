package io.workron.scheduler.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.workron.scheduler.core.DispatchPlanner.WorkerCapacity;
import io.workron.scheduler.core.GangPlanner.Decision;
import io.workron.scheduler.core.GangPlanner.Gang;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import org.junit.jupiter.api.Test;

class GangPlannerTest {

  private static final OffsetDateTime NOW = OffsetDateTime.parse("2026-12-01T12:00:00Z");
  private final GangPlanner planner = new GangPlanner(Duration.ofSeconds(30));

  private static WorkerCapacity worker(String id, int slots, int used, long vram, long usedVram) {
    return new WorkerCapacity(id, id + "-i", slots, vram, 0, used, usedVram, 0);
  }

  private static List<Unschedulable.Offer> offers(List<WorkerCapacity> ws) {
    return ws.stream().map(w -> new Unschedulable.Offer(w.vramMb(), w.memoryMb())).toList();
  }

  @Test
  void aGangGetsOneDistinctWorkerPerTaskTheRoomiestFirst() {
    List<WorkerCapacity> ws =
        List.of(worker("a", 4, 3, 0, 0), worker("b", 4, 0, 0, 0), worker("c", 4, 1, 0, 0));
    GangPlanner.Plan plan = planner.plan(List.of(new Gang("g", 2, 0, 0, NOW)), ws, offers(ws), NOW);

    Decision d = plan.decisions().get(0);
    assertThat(d.placed()).isTrue();
    assertThat(d.seats()).extracting(GangPlanner.Seat::index).containsExactly(0, 1);
    assertThat(d.seats()).extracting(GangPlanner.Seat::workerId).containsExactly("b", "c");
    assertThat(d.seats().get(0).incarnation()).isEqualTo("b-i");
    assertThat(plan.heldFor()).isNull();
  }

  @Test
  void aGangThatDoesNotFitWaitsSayingWhyAndASmallerOneBehindItUsesWhatIsFree() {
    List<WorkerCapacity> ws =
        List.of(worker("a", 1, 1, 0, 0), worker("b", 1, 0, 0, 0), worker("c", 1, 0, 0, 0));
    GangPlanner.Plan plan =
        planner.plan(
            List.of(new Gang("big", 3, 0, 0, NOW), new Gang("small", 2, 0, 0, NOW)),
            ws,
            offers(ws),
            NOW);

    Decision big = plan.decisions().get(0);
    assertThat(big.placed()).isFalse();
    assertThat(big.unschedulable()).isFalse();
    assertThat(big.waitReason())
        .isEqualTo("waiting for 3 workers with a free slot at once; 2 have that now");
    assertThat(plan.decisions().get(1).seats())
        .extracting(GangPlanner.Seat::workerId)
        .containsExactlyInAnyOrder("b", "c");
  }

  @Test
  void perTaskResourcesMustBeFreeOnEachWorker() {
    List<WorkerCapacity> ws = List.of(worker("a", 4, 0, 16000, 10000), worker("b", 4, 0, 16000, 0));
    GangPlanner.Plan plan =
        planner.plan(List.of(new Gang("g", 2, 8000, 0, NOW)), ws, offers(ws), NOW);

    assertThat(plan.decisions().get(0).waitReason())
        .isEqualTo(
            "waiting for 2 workers with a free slot and vram_mb 8000 free at once; 1 has that now");
  }

  @Test
  void theGangThatWaitedLongestHasItsWorkersHeldSoSmallerWorkCannotStarveIt() {
    List<WorkerCapacity> ws =
        List.of(worker("a", 1, 1, 0, 0), worker("b", 1, 0, 0, 0), worker("c", 1, 0, 0, 0));
    GangPlanner.Plan plan =
        planner.plan(
            List.of(
                new Gang("big", 3, 0, 0, NOW.minusSeconds(31)), new Gang("small", 2, 0, 0, NOW)),
            ws,
            offers(ws),
            NOW);

    assertThat(plan.heldFor()).isEqualTo("big");
    assertThat(plan.heldWorkers()).containsExactlyInAnyOrder("a", "b", "c");
    assertThat(plan.decisions().get(0).waitReason())
        .endsWith("; 3 workers are held for it after waiting PT30S");
    // the small gang behind it gets nothing while the workers are held
    assertThat(plan.decisions().get(1).placed()).isFalse();
  }

  @Test
  void aGangTheRegisteredFleetCouldNeverHoldIsUnschedulable() {
    List<WorkerCapacity> ws = List.of(worker("a", 4, 0, 16000, 0), worker("b", 4, 0, 8000, 0));
    GangPlanner.Plan plan =
        planner.plan(List.of(new Gang("g", 2, 12000, 0, NOW)), ws, offers(ws), NOW);

    Decision d = plan.decisions().get(0);
    assertThat(d.unschedulable()).isTrue();
    assertThat(d.waitReason())
        .isEqualTo(
            "needs 2 distinct workers offering vram_mb 12000; only 1 registered worker does");
  }
}
