package io.workron.scheduler.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.workron.scheduler.core.DispatchPlanner.Candidate;
import io.workron.scheduler.core.DispatchPlanner.Placement;
import io.workron.scheduler.core.DispatchPlanner.WorkerCapacity;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class DispatchPlannerTest {

  private final DispatchPlanner planner = new DispatchPlanner();

  private static WorkerCapacity idle(String id, int slots) {
    return new WorkerCapacity(id, id + "-inc", slots, 0, 0, 0, 0, 0);
  }

  private static List<Candidate> plainJobs(int n) {
    return java.util.stream.IntStream.range(0, n)
        .mapToObj(i -> new Candidate("job-" + i, 0, 0))
        .toList();
  }

  @Test
  void neverPlacesMoreJobsOnAWorkerThanItHasFreeSlots() {
    List<Placement> placed =
        planner.place(
            plainJobs(10),
            List.of(idle("a", 2), new WorkerCapacity("b", "b-inc", 4, 0, 0, 3, 0, 0)));

    Map<String, Long> perWorker =
        placed.stream().collect(Collectors.groupingBy(Placement::workerId, Collectors.counting()));
    assertThat(perWorker).containsEntry("a", 2L).containsEntry("b", 1L);
    assertThat(placed).hasSize(3);
  }

  @Test
  void spreadsJobsOverWorkersInsteadOfFillingOneFirst() {
    List<Placement> placed = planner.place(plainJobs(4), List.of(idle("a", 4), idle("b", 4)));

    assertThat(placed.stream().filter(p -> p.workerId().equals("a"))).hasSize(2);
    assertThat(placed.stream().filter(p -> p.workerId().equals("b"))).hasSize(2);
  }

  @Test
  void addressesEachDispatchToTheIncarnationThatAnnouncedItself() {
    List<Placement> placed = planner.place(plainJobs(1), List.of(idle("a", 1)));

    assertThat(placed).containsExactly(new Placement("job-0", "a", "a-inc"));
  }

  @Test
  void placesAJobNeedingVramOnlyOnAWorkerWithThatMuchFree() {
    WorkerCapacity cpuOnly = idle("cpu", 8);
    WorkerCapacity gpu = new WorkerCapacity("gpu", "g", 8, 24_000, 64_000, 1, 20_000, 0);
    WorkerCapacity bigGpu = new WorkerCapacity("big", "b", 8, 80_000, 64_000, 0, 0, 0);

    List<Placement> placed =
        planner.place(List.of(new Candidate("train", 16_000, 0)), List.of(cpuOnly, gpu, bigGpu));

    assertThat(placed).extracting(Placement::workerId).containsExactly("big");
  }

  @Test
  void leavesAJobThatFitsNowherePendingAndPlacesTheOthers() {
    List<Placement> placed =
        planner.place(
            List.of(new Candidate("huge", 0, 1_000_000), new Candidate("small", 0, 0)),
            List.of(new WorkerCapacity("a", "a", 2, 0, 4096, 0, 0, 0)));

    assertThat(placed).extracting(Placement::jobId).containsExactly("small");
  }

  @Test
  void accountsForResourcesOfJobsPlacedEarlierInTheSameRound() {
    WorkerCapacity w = new WorkerCapacity("a", "a", 4, 0, 1000, 0, 0, 0);

    List<Placement> placed =
        planner.place(
            List.of(new Candidate("j1", 0, 600), new Candidate("j2", 0, 600)), List.of(w));

    assertThat(placed).extracting(Placement::jobId).containsExactly("j1");
  }
}
