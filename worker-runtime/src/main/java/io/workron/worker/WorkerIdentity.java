package io.workron.worker;

import io.workron.schemas.Ids;
import java.time.Clock;
import java.util.random.RandomGenerator;

/**
 * Who this worker process is: a stable worker id and an incarnation that is new on every start.
 * Dispatches name the incarnation they are for, so a restarted worker can tell its previous life's
 * dispatches from its own.
 */
public record WorkerIdentity(String workerId, String incarnation) {

  static WorkerIdentity forStart(String configuredId, Clock clock, RandomGenerator random) {
    String id =
        configuredId == null || configuredId.isBlank()
            ? "worker-%08x".formatted(random.nextInt())
            : configuredId;
    return new WorkerIdentity(id, Ids.uuidV7(clock).toString());
  }
}
