package io.workron.scheduler.liveness;

import io.workron.scheduler.config.SchedulerProperties;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.apache.kafka.common.TopicPartition;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.kafka.config.KafkaListenerEndpointRegistry;
import org.springframework.kafka.listener.MessageListenerContainer;
import org.springframework.stereotype.Component;

/**
 * Health component {@code watermarks}, part of readiness: DOWN while a heartbeats or results
 * partition this replica consumes has not moved its watermark for {@code worker-offline-after}
 * (ticks move it every second when all is well). The reaper judges nothing from such a partition
 * meanwhile; this makes the stall visible instead of silent.
 */
@Component("watermarksHealthIndicator")
class EvidenceHealth implements HealthIndicator {

  private final KafkaListenerEndpointRegistry listeners;
  private final Watermarks watermarks;
  private final Clock clock;
  private final Duration stalledAfter;
  private final Instant startedAt;

  EvidenceHealth(
      KafkaListenerEndpointRegistry listeners,
      Watermarks watermarks,
      Clock clock,
      SchedulerProperties properties) {
    this.listeners = listeners;
    this.watermarks = watermarks;
    this.clock = clock;
    this.stalledAfter = properties.workerOfflineAfter();
    this.startedAt = clock.instant();
  }

  @Override
  public Health health() {
    Instant now = clock.instant();
    Health.Builder health = Health.up();
    boolean stalled = false;
    for (Watermarks.Kind kind : Watermarks.Kind.values()) {
      MessageListenerContainer container = listeners.getListenerContainer(kind.column());
      if (container == null || container.getAssignedPartitions() == null) {
        continue;
      }
      for (TopicPartition tp : container.getAssignedPartitions()) {
        Instant last = watermarks.lastAdvancedHere(kind, tp.partition());
        Instant since = last == null ? startedAt : last;
        if (Duration.between(since, now).compareTo(stalledAfter) > 0) {
          stalled = true;
          health.withDetail(
              tp.toString(),
              last == null
                  ? "no watermark applied since this replica started"
                  : "watermark last moved " + Duration.between(last, now).toSeconds() + " s ago");
        }
      }
    }
    return stalled ? health.down().build() : health.build();
  }
}
