package io.workron.worker.jobs;

import io.workron.schemas.JobDispatch;
import io.workron.schemas.JobStop;
import io.workron.worker.WorkerIdentity;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Decides whether a well-formed dispatch is this incarnation's to run. Dispatches for another
 * worker or another incarnation (a previous life of this worker) are ignored; so is a redelivery of
 * an attempt this incarnation already accepted, so no attempt runs twice here, and so is an attempt
 * older than one this incarnation has already seen for the same job (attempt numbers only grow: an
 * older one was taken back and must not run beside, or after, the newer one).
 */
final class DispatchGate {

  /** Why a dispatch was not run. Its lower-case name is the metric's {@code reason} tag. */
  enum Refusal {
    OTHER_WORKER,
    OTHER_INCARNATION,
    REDELIVERED,
    /** An older attempt of a job this incarnation has seen a newer attempt (or a stop) of. */
    SUPERSEDED_ATTEMPT;

    String tag() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /**
   * Redeliveries come from the few offsets after the last commit, so remembering the newest
   * attempts is enough; the bound keeps a long-lived worker's memory flat.
   */
  static final int REMEMBERED_ATTEMPTS = 10_000;

  private final WorkerIdentity identity;
  private final Map<Attempt, Boolean> accepted =
      new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Attempt, Boolean> eldest) {
          return size() > REMEMBERED_ATTEMPTS;
        }
      };

  /** Newest attempt seen per job (dispatched or stopped), bounded like {@link #accepted}. */
  private final Map<String, Integer> newestAttempt =
      new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Integer> eldest) {
          return size() > REMEMBERED_ATTEMPTS;
        }
      };

  DispatchGate(WorkerIdentity identity) {
    this.identity = identity;
  }

  /** Empty when the dispatch is accepted (and remembered); otherwise why it is not run. */
  synchronized Optional<Refusal> admit(JobDispatch dispatch) {
    if (!identity.workerId().equals(dispatch.workerId())) {
      return Optional.of(Refusal.OTHER_WORKER);
    }
    if (!identity.incarnation().equals(dispatch.incarnation())) {
      return Optional.of(Refusal.OTHER_INCARNATION);
    }
    Integer newest = newestAttempt.get(dispatch.jobId());
    if (newest != null && newest > dispatch.attempt()) {
      return Optional.of(Refusal.SUPERSEDED_ATTEMPT);
    }
    if (accepted.putIfAbsent(Attempt.of(dispatch), Boolean.TRUE) != null) {
      return Optional.of(Refusal.REDELIVERED);
    }
    newestAttempt.put(dispatch.jobId(), dispatch.attempt());
    return Optional.empty();
  }

  /**
   * Remembers a stopped attempt as seen: a dispatch of it that arrives later (redelivered, or
   * overtaken) is not run. Attempts numbers only grow, so an older attempt is refused from now on.
   */
  synchronized void stopped(JobStop stop) {
    accepted.putIfAbsent(new Attempt(stop.jobId(), stop.attempt()), Boolean.TRUE);
    newestAttempt.merge(stop.jobId(), stop.attempt(), Math::max);
  }
}
