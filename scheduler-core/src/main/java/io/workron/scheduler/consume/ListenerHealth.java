package io.workron.scheduler.consume;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * Health component {@code consumers}, part of readiness: DOWN while any of scheduler-core's Kafka
 * listeners fails to apply its poll for a reason of the environment (the database unreachable or
 * refusing for a bad deploy, the broker not taking dead letters). The listener retries the poll
 * with backoff meanwhile; nothing is skipped or dead-lettered, so the component names what it waits
 * for.
 */
@Component("consumers")
public class ListenerHealth implements HealthIndicator {

  private record Failing(String error, Instant since) {}

  private final Map<String, Failing> failing = new ConcurrentHashMap<>();
  private final Clock clock;

  ListenerHealth(Clock clock) {
    this.clock = clock;
  }

  void ok(String listener) {
    failing.remove(listener);
  }

  void failing(String listener, Throwable error) {
    failing.compute(
        listener,
        (name, before) ->
            new Failing(
                StoreFailures.describe(error), before == null ? clock.instant() : before.since()));
  }

  @Override
  public Health health() {
    if (failing.isEmpty()) {
      return Health.up().build();
    }
    Health.Builder down = Health.down();
    failing.forEach(
        (name, f) ->
            down.withDetail(name, "retrying since " + f.since() + " because " + f.error()));
    return down.build();
  }
}
