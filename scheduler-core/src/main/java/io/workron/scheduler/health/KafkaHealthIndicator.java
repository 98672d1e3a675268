package io.workron.scheduler.health;

import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.stereotype.Component;

/**
 * Health component {@code kafka}, part of the readiness group: DOWN when the broker does not
 * describe its cluster within {@code workron.health.kafka-timeout} (default 1500ms), so an instance
 * that cannot reach Kafka reports itself not ready (and gets no traffic), but is never restarted
 * for it. One admin client serves every probe, and a result is reused for a second: probes cost the
 * broker one request a second at most and never wait longer than the timeout, however many arrive.
 */
@Component
class KafkaHealthIndicator implements HealthIndicator, DisposableBean {

  private static final long REUSE_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final Admin admin;
  private final int timeoutMillis;
  private Health last;
  private long checkedAt;

  KafkaHealthIndicator(
      KafkaAdmin kafkaAdmin, @Value("${workron.health.kafka-timeout:1500ms}") Duration timeout) {
    this.admin = Admin.create(kafkaAdmin.getConfigurationProperties());
    this.timeoutMillis = Math.toIntExact(timeout.toMillis());
  }

  @Override
  public synchronized Health health() {
    if (last == null || System.nanoTime() - checkedAt >= REUSE_NANOS) {
      last = check();
      checkedAt = System.nanoTime();
    }
    return last;
  }

  private Health check() {
    var options = new DescribeClusterOptions().timeoutMs(timeoutMillis);
    try {
      String clusterId =
          admin.describeCluster(options).clusterId().get(timeoutMillis, TimeUnit.MILLISECONDS);
      return Health.up().withDetail("clusterId", clusterId).build();
    } catch (ExecutionException e) {
      return Health.down(e.getCause()).build();
    } catch (TimeoutException e) {
      return Health.down().withDetail("error", "no answer within " + timeoutMillis + " ms").build();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Health.down(e).build();
    }
  }

  @Override
  public void destroy() {
    admin.close(Duration.ofSeconds(1));
  }
}
