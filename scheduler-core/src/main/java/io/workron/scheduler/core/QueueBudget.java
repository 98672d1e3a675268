package io.workron.scheduler.core;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What each constrained queue may still start in one dispatch transaction: none while paused; up to
 * {@code max_running} minus its running jobs; per {@code concurrency_key}, up to {@code
 * max_running_per_key} minus the running jobs sharing it. Jobs of queues without limits pass
 * freely. Priority order is kept within what each queue may run: {@link #admit} keeps the
 * candidates' order and only drops those past a limit.
 */
public final class QueueBudget {

  /** A queue's limits (null: none) and whether it is paused. */
  public record Limits(Integer maxRunning, Integer maxRunningPerKey, boolean paused) {}

  /** A job the dispatch round may start, with what its queue's limits look at. */
  public record Job(String id, String queue, String key) {}

  private final Map<String, Limits> limits;
  private final Map<String, Integer> runningPerQueue;
  private final Map<List<String>, Integer> runningPerKey;

  /**
   * @param limits the constrained queues (others are unconstrained)
   * @param runningPerQueue running jobs of each constrained queue now
   * @param runningPerKey running jobs now per (queue, key), for queues with a per-key limit
   */
  public QueueBudget(
      Map<String, Limits> limits,
      Map<String, Integer> runningPerQueue,
      Map<List<String>, Integer> runningPerKey) {
    this.limits = Map.copyOf(limits);
    this.runningPerQueue = new HashMap<>(runningPerQueue);
    this.runningPerKey = new HashMap<>(runningPerKey);
  }

  /** Queues none of whose jobs may start now: paused, or at {@code max_running}. */
  public Set<String> closedQueues() {
    Set<String> closed = new HashSet<>();
    limits.forEach(
        (queue, l) -> {
          if (l.paused() || (l.maxRunning() != null && queueRoom(queue, l) <= 0)) {
            closed.add(queue);
          }
        });
    return closed;
  }

  /** (queue, key) pairs at their queue's {@code max_running_per_key}. */
  public List<List<String>> fullKeys() {
    List<List<String>> full = new ArrayList<>();
    runningPerKey.forEach(
        (queueAndKey, n) -> {
          Limits l = limits.get(queueAndKey.get(0));
          if (l != null && l.maxRunningPerKey() != null && n >= l.maxRunningPerKey()) {
            full.add(queueAndKey);
          }
        });
    return full;
  }

  /**
   * The candidates that may start, in their order: each constrained queue's and key's share is
   * capped at what it may still start. Nothing is counted until {@link #started}.
   */
  public <T> List<T> admit(List<T> candidates, java.util.function.Function<T, Job> job) {
    Map<String, Integer> queueTaken = new HashMap<>();
    Map<List<String>, Integer> keyTaken = new HashMap<>();
    List<T> admitted = new ArrayList<>(candidates.size());
    for (T candidate : candidates) {
      Job j = job.apply(candidate);
      Limits l = limits.get(j.queue());
      if (l == null) {
        admitted.add(candidate);
        continue;
      }
      if (l.paused()) {
        continue;
      }
      if (l.maxRunning() != null
          && queueTaken.getOrDefault(j.queue(), 0) >= queueRoom(j.queue(), l)) {
        continue;
      }
      List<String> queueAndKey = List.of(j.queue(), j.key() == null ? "" : j.key());
      if (l.maxRunningPerKey() != null && j.key() != null) {
        int room = l.maxRunningPerKey() - runningPerKey.getOrDefault(queueAndKey, 0);
        if (keyTaken.getOrDefault(queueAndKey, 0) >= room) {
          continue;
        }
        keyTaken.merge(queueAndKey, 1, Integer::sum);
      }
      queueTaken.merge(j.queue(), 1, Integer::sum);
      admitted.add(candidate);
    }
    return admitted;
  }

  /** Counts {@code jobs} as running from now on. */
  public void started(List<Job> jobs) {
    for (Job j : jobs) {
      Limits l = limits.get(j.queue());
      if (l == null) {
        continue;
      }
      runningPerQueue.merge(j.queue(), 1, Integer::sum);
      if (j.key() != null) {
        runningPerKey.merge(List.of(j.queue(), j.key()), 1, Integer::sum);
      }
    }
  }

  private int queueRoom(String queue, Limits l) {
    return l.maxRunning() - runningPerQueue.getOrDefault(queue, 0);
  }
}
