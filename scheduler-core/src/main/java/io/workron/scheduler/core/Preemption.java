package io.workron.scheduler.core;

import io.workron.scheduler.core.DispatchPlanner.WorkerCapacity;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which running work to stop so that higher-priority work that cannot be placed otherwise can run.
 * Plain Java: no database, no Kafka.
 *
 * <p>Only preemptible work of lower priority that has run at least {@code minRunTime} is a
 * candidate; non-preemptible work is never chosen. On each worker, candidates are taken lowest
 * priority first and, among equals, the most recently started first (the least work lost), until
 * one task of the demand fits, as Kueue orders its candidates. A job needs the cheapest such
 * worker; a gang of N needs the N cheapest distinct workers. Cheapest: fewest victims, then the
 * lowest highest victim priority. A victim is a unit: a single job, or a whole gang (a gang is
 * drained whole even when only one of its tasks is in the way).
 */
public final class Preemption {

  /** What must be placed: {@code size} tasks (1 for a job) each needing these resources. */
  public record Demand(String id, int priority, int size, long vramMb, long memoryMb) {}

  /**
   * Work running now on a worker: a job, or one task of gang {@code gangId}; {@code startedAt} is
   * when its current run began (its gang's admission for a gang task).
   */
  public record Running(
      String jobId,
      String gangId,
      String workerId,
      int priority,
      long vramMb,
      long memoryMb,
      boolean preemptible,
      OffsetDateTime startedAt) {

    /** The unit stopped as a whole: the gang for a gang task, else the job. */
    public String unit() {
      return gangId != null ? gangId : jobId;
    }
  }

  /** The victims (units, as {@link Running#unit()}) and the workers the demand would take. */
  public record Plan(Set<String> victims, List<String> workers) {}

  private record Cost(String workerId, Set<String> units, int highest) {}

  private final Duration minRunTime;

  public Preemption(Duration minRunTime) {
    this.minRunTime = minRunTime;
  }

  /**
   * The victims that make room for {@code demand}, or empty when it fits already (no preemption
   * needed) or cannot be made to fit.
   */
  public Optional<Plan> plan(
      Demand demand, List<WorkerCapacity> workers, List<Running> running, OffsetDateTime now) {
    Map<String, List<Running>> byWorker =
        running.stream().collect(Collectors.groupingBy(Running::workerId));
    List<Cost> costs = new ArrayList<>();
    for (WorkerCapacity w : workers) {
      cost(demand, w, byWorker.getOrDefault(w.id(), List.of()), now).ifPresent(costs::add);
    }
    if (costs.size() < demand.size()) {
      return Optional.empty();
    }
    costs.sort(
        Comparator.<Cost>comparingInt(c -> c.units().size())
            .thenComparingInt(Cost::highest)
            .thenComparing(Cost::workerId));
    List<Cost> chosen = costs.subList(0, demand.size());
    Set<String> victims = new LinkedHashSet<>();
    chosen.forEach(c -> victims.addAll(c.units()));
    if (victims.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new Plan(victims, chosen.stream().map(Cost::workerId).toList()));
  }

  /** The cheapest set of victims on {@code w} after which one task of the demand fits. */
  private Optional<Cost> cost(
      Demand demand, WorkerCapacity w, List<Running> here, OffsetDateTime now) {
    if (w.slots() <= 0
        || !fitsDeclared(demand.vramMb(), w.vramMb())
        || !fitsDeclared(demand.memoryMb(), w.memoryMb())) {
      return Optional.empty();
    }
    int slots = w.freeSlots();
    long vram = w.vramMb() - w.usedVramMb();
    long memory = w.memoryMb() - w.usedMemoryMb();
    List<Running> candidates =
        here.stream()
            .filter(Running::preemptible)
            .filter(r -> r.priority() < demand.priority())
            .filter(r -> r.startedAt() != null && !r.startedAt().plus(minRunTime).isAfter(now))
            .sorted(
                Comparator.comparingInt(Running::priority)
                    .thenComparing(Running::startedAt, Comparator.reverseOrder())
                    .thenComparing(Running::jobId))
            .toList();
    Set<String> units = new LinkedHashSet<>();
    int highest = Integer.MIN_VALUE;
    for (int i = 0; ; i++) {
      if (slots > 0 && demand.vramMb() <= vram && demand.memoryMb() <= memory) {
        return Optional.of(new Cost(w.id(), units, highest));
      }
      if (i >= candidates.size()) {
        return Optional.empty();
      }
      Running r = candidates.get(i);
      units.add(r.unit());
      highest = Math.max(highest, r.priority());
      // a gang has one task per worker: a victim unit frees one task's room here
      slots++;
      vram += r.vramMb();
      memory += r.memoryMb();
    }
  }

  private static boolean fitsDeclared(long wanted, long declared) {
    return wanted == 0 || (declared > 0 && wanted <= declared);
  }
}
