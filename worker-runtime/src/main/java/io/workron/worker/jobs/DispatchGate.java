package io.workron.worker.jobs;

import io.workron.schemas.JobDispatch;
import io.workron.worker.WorkerIdentity;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Decides whether a well-formed dispatch is this incarnation's to run. Dispatches for another
 * worker or another incarnation (a previous life of this worker) are ignored; so is a redelivery of
 * an attempt this incarnation already accepted, so no attempt runs twice here.
 */
final class DispatchGate {

  /** Why a dispatch was not run. Its lower-case name is the metric's {@code reason} tag. */
  enum Refusal {
    OTHER_WORKER,
    OTHER_INCARNATION,
    REDELIVERED;

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
    if (accepted.putIfAbsent(Attempt.of(dispatch), Boolean.TRUE) != null) {
      return Optional.of(Refusal.REDELIVERED);
    }
    return Optional.empty();
  }
}
