package io.workron.scheduler.core;

import io.workron.scheduler.core.DispatchPlanner.WorkerCapacity;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Places whole gangs: a gang of N tasks gets N distinct live workers, each with a free slot and the
 * per-task resources free, or nothing at all. Plain Java: no database, no Kafka.
 *
 * <p>Gangs are taken in admission order (priority, then size, then age, as given). A gang that
 * cannot be placed does not stop smaller ones behind it from using what is free (backfill), with
 * one exception that keeps big gangs from starving: once the first gang that could run on the
 * registered fleet but does not fit now has waited {@code holdAfter}, the workers it needs are held
 * for it. Nothing else is placed on a held worker (neither later gangs here nor ordinary jobs in
 * the dispatch loop), so as their running work ends, the gang's capacity frees up. A gang for which
 * lower-priority work was preempted ({@link Preemption}) is held for at once.
 */
public final class GangPlanner {

  /** A gang waiting for admission, with its per-task request. */
  public record Gang(
      String id,
      int size,
      long vramMb,
      long memoryMb,
      OffsetDateTime waitingSince,
      boolean preemptedFor,
      Set<String> heldNow) {

    /** A gang that has not had work preempted for it, and holds no worker. */
    public Gang(String id, int size, long vramMb, long memoryMb, OffsetDateTime waitingSince) {
      this(id, size, vramMb, memoryMb, waitingSince, false, Set.of());
    }
  }

  /** One task's place: task {@code index} runs on this worker incarnation. */
  public record Seat(int index, String workerId, String incarnation) {}

  /**
   * What the plan says about each gang: its seats in index order when placed, else why it waits and
   * whether it could never run on the registered fleet.
   */
  public record Decision(
      String gangId, List<Seat> seats, String waitReason, boolean unschedulable) {
    public boolean placed() {
      return !seats.isEmpty();
    }
  }

  /** Decisions in admission order, and the workers held for the gang that waited longest. */
  public record Plan(List<Decision> decisions, String heldFor, Set<String> heldWorkers) {}

  private final Duration holdAfter;

  public GangPlanner(Duration holdAfter) {
    this.holdAfter = holdAfter;
  }

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

    boolean fitsNow(Gang g) {
      return slots > 0
          && fits(g.vramMb(), vram, worker.vramMb())
          && fits(g.memoryMb(), memory, worker.memoryMb());
    }

    boolean couldEverHold(Gang g) {
      return worker.slots() > 0
          && fits(g.vramMb(), worker.vramMb(), worker.vramMb())
          && fits(g.memoryMb(), worker.memoryMb(), worker.memoryMb());
    }
  }

  /**
   * @param gangs waiting gangs in admission order
   * @param live the live workers that take work, with what they use now
   * @param offers what every registered worker that is not offline declares (live or not), to tell
   *     a gang that must wait from one that can never run
   * @param now the admission tick's time
   */
  public Plan plan(
      List<Gang> gangs,
      List<WorkerCapacity> live,
      List<Unschedulable.Offer> offers,
      OffsetDateTime now) {
    Map<String, Free> free = new LinkedHashMap<>();
    for (WorkerCapacity w : live) {
      free.put(w.id(), new Free(w));
    }
    Comparator<Free> roomiestFirst =
        Comparator.<Free>comparingInt(f -> f.slots)
            .reversed()
            .thenComparing(f -> -(f.vram))
            .thenComparing(f -> -(f.memory))
            .thenComparing(f -> f.worker.id());
    List<Decision> decisions = new ArrayList<>(gangs.size());
    String heldFor = null;
    Set<String> held = new HashSet<>();
    for (Gang g : gangs) {
      Optional<String> never = neverFits(g, offers);
      if (never.isPresent()) {
        decisions.add(new Decision(g.id(), List.of(), never.get(), true));
        continue;
      }
      List<Free> eligible = new ArrayList<>();
      for (Free f : free.values()) {
        if (!held.contains(f.worker.id()) && f.fitsNow(g)) {
          eligible.add(f);
        }
      }
      if (eligible.size() >= g.size()) {
        eligible.sort(roomiestFirst);
        List<Seat> seats = new ArrayList<>(g.size());
        for (int i = 0; i < g.size(); i++) {
          Free f = eligible.get(i);
          f.slots--;
          f.vram -= g.vramMb();
          f.memory -= g.memoryMb();
          seats.add(new Seat(i, f.worker.id(), f.worker.incarnation()));
        }
        decisions.add(new Decision(g.id(), seats, null, false));
        continue;
      }
      String reason = waitReason(g, eligible.size());
      boolean longWait = g.waitingSince() != null && !g.waitingSince().plus(holdAfter).isAfter(now);
      // work was preempted to make room for it: what frees up is kept for it at once
      if (heldFor == null && (longWait || g.preemptedFor())) {
        List<Free> hosts = new ArrayList<>();
        for (Free f : free.values()) {
          if (f.couldEverHold(g)) {
            hosts.add(f);
          }
        }
        if (hosts.size() >= g.size()) {
          // the workers already held for it stay held (those preemption chose, or freed so far)
          hosts.sort(
              Comparator.<Free, Boolean>comparing(f -> !g.heldNow().contains(f.worker.id()))
                  .thenComparing(roomiestFirst));
          heldFor = g.id();
          for (int i = 0; i < g.size(); i++) {
            held.add(hosts.get(i).worker.id());
          }
          reason +=
              g.preemptedFor()
                  ? "; lower-priority work is being preempted for it and "
                      + g.size()
                      + " workers are held for it"
                  : "; " + g.size() + " workers are held for it after waiting " + holdAfter;
        } else {
          reason += "; only " + hosts.size() + " live workers could ever hold a task";
        }
      }
      decisions.add(new Decision(g.id(), List.of(), reason, false));
    }
    return new Plan(decisions, heldFor, held);
  }

  private static String waitReason(Gang g, int eligible) {
    StringBuilder need =
        new StringBuilder("waiting for ").append(g.size()).append(" workers with a free slot");
    if (g.vramMb() > 0 || g.memoryMb() > 0) {
      need.append(" and");
      if (g.vramMb() > 0) {
        need.append(" vram_mb ").append(g.vramMb());
      }
      if (g.memoryMb() > 0) {
        need.append(" memory_mb ").append(g.memoryMb());
      }
      need.append(" free");
    }
    return need.append(" at once; ")
        .append(eligible)
        .append(eligible == 1 ? " has" : " have")
        .append(" that now")
        .toString();
  }

  /**
   * Why the gang can never run on the registered fleet (fewer than N workers declare a slot and the
   * per-task resources), or empty. With no worker registered at all nothing is judged.
   */
  static Optional<String> neverFits(Gang g, List<Unschedulable.Offer> offers) {
    if (offers.isEmpty()) {
      return Optional.empty();
    }
    int hosts = 0;
    for (Unschedulable.Offer o : offers) {
      if (g.vramMb() <= o.vramMb() && g.memoryMb() <= o.memoryMb()) {
        hosts++;
      }
    }
    if (hosts >= g.size()) {
      return Optional.empty();
    }
    StringBuilder why = new StringBuilder("needs ").append(g.size()).append(" distinct workers");
    if (g.vramMb() > 0 || g.memoryMb() > 0) {
      why.append(" offering");
      if (g.vramMb() > 0) {
        why.append(" vram_mb ").append(g.vramMb());
      }
      if (g.memoryMb() > 0) {
        why.append(" memory_mb ").append(g.memoryMb());
      }
    }
    return Optional.of(
        why.append("; only ")
            .append(hosts)
            .append(hosts == 1 ? " registered worker does" : " registered workers do")
            .toString());
  }

  /**
   * A request of zero always fits; a non-zero one needs the resource declared and that much free.
   */
  private static boolean fits(long wanted, long free, long declared) {
    return wanted == 0 || (declared > 0 && wanted <= free);
  }
}
