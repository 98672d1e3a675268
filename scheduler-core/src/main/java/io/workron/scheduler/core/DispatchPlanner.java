package io.workron.scheduler.core;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Places claimed jobs on workers: each job, in claim order, goes to the worker with the most free
 * slots that also has room for its resources, which spreads load evenly. A job that fits nowhere
 * stays pending. Plain Java: no database, no Kafka.
 */
public final class DispatchPlanner {

  /** A worker as the planner sees it: what it offers and what is already in use. */
  public record WorkerCapacity(
      String id,
      String incarnation,
      int slots,
      long vramMb,
      long memoryMb,
      int usedSlots,
      long usedVramMb,
      long usedMemoryMb) {

    public int freeSlots() {
      return slots - usedSlots;
    }
  }

  /** A claimed job waiting for a place. */
  public record Candidate(String jobId, long vramMb, long memoryMb) {}

  /** One decision: this job runs on this worker incarnation. */
  public record Placement(String jobId, String workerId, String incarnation) {}

  private static final class Free {
    final WorkerCapacity worker;
    int slots;
    long vram;
    long memory;

    Free(WorkerCapacity w) {
      worker = w;
      slots = w.freeSlots();
      vram = w.vramMb() - w.usedVramMb();
      memory = w.memoryMb() - w.usedMemoryMb();
    }
  }

  /** Placements, and what the workers have left once they are made. */
  public record Plan(List<Placement> placements, List<WorkerCapacity> remaining) {}

  public List<Placement> place(List<Candidate> jobs, List<WorkerCapacity> workers) {
    return plan(jobs, workers).placements();
  }

  /** As {@link #place}, also telling what capacity is left for the next round. */
  public Plan plan(List<Candidate> jobs, List<WorkerCapacity> workers) {
    List<Free> free = new ArrayList<>();
    for (WorkerCapacity w : workers) {
      if (w.freeSlots() > 0) {
        free.add(new Free(w));
      }
    }
    Comparator<Free> mostFreeFirst =
        Comparator.<Free>comparingInt(f -> f.slots).reversed().thenComparing(f -> f.worker.id());
    List<Placement> placements = new ArrayList<>();
    for (Candidate job : jobs) {
      Free best = null;
      for (Free f : free) {
        if (f.slots > 0
            && fits(job.vramMb(), f.vram, f.worker.vramMb())
            && fits(job.memoryMb(), f.memory, f.worker.memoryMb())
            && (best == null || mostFreeFirst.compare(f, best) < 0)) {
          best = f;
        }
      }
      if (best != null) {
        best.slots--;
        best.vram -= job.vramMb();
        best.memory -= job.memoryMb();
        placements.add(new Placement(job.jobId(), best.worker.id(), best.worker.incarnation()));
      }
    }
    List<WorkerCapacity> remaining = new ArrayList<>(workers.size());
    for (WorkerCapacity w : workers) {
      Free f = free.stream().filter(x -> x.worker == w).findFirst().orElse(null);
      remaining.add(
          f == null
              ? w
              : new WorkerCapacity(
                  w.id(),
                  w.incarnation(),
                  w.slots(),
                  w.vramMb(),
                  w.memoryMb(),
                  w.slots() - f.slots,
                  w.vramMb() - f.vram,
                  w.memoryMb() - f.memory));
    }
    return new Plan(placements, remaining);
  }

  /**
   * The largest request each worker with a free slot could take now, as (vram, memory) pairs: a job
   * fits some worker now only if it fits one of these. A worker that declares none of a resource
   * offers 0 of it, so only jobs asking for none fit there.
   */
  public static long[][] freeShapes(List<WorkerCapacity> workers) {
    record Shape(long vram, long memory) {}
    return workers.stream()
        .filter(w -> w.freeSlots() > 0)
        // never below 0: a worker that now declares less than it runs still takes 0-requests
        .map(
            w ->
                new Shape(
                    Math.max(0, w.vramMb() - w.usedVramMb()),
                    Math.max(0, w.memoryMb() - w.usedMemoryMb())))
        .distinct()
        .map(s -> new long[] {s.vram(), s.memory()})
        .toArray(long[][]::new);
  }

  /**
   * A request of zero always fits anywhere. A non-zero request needs a worker that declares that
   * resource and still has that much of it free.
   */
  private static boolean fits(long wanted, long free, long declared) {
    return wanted == 0 || (declared > 0 && wanted <= free);
  }
}
