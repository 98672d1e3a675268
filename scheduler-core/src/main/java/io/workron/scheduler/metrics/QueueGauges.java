package io.workron.scheduler.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.workron.scheduler.core.JobStatus;
import io.workron.scheduler.queues.Queues;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Jobs per queue and status, {@code workron_queue_jobs{queue,status}}, and the seed's totals {@code
 * workron_jobs_pending}, {@code workron_jobs_running}, {@code workron_jobs_blocked}. Read from the
 * maintained counts ({@code queue_counts} plus the deltas not folded yet), never by counting jobs,
 * every {@code workron.metrics.queue-refresh} (5 s), so a scrape costs the database nothing. Every
 * replica reports the same figures: aggregate with {@code max}, not {@code sum}.
 */
@Component
public class QueueGauges implements SmartLifecycle {

  private final Queues queues;
  private final MeterRegistry meters;
  private final Map<String, AtomicLong> perQueue = new ConcurrentHashMap<>();
  private final Map<JobStatus, AtomicLong> totals = new ConcurrentHashMap<>();
  private final GaugeLoop loop;

  QueueGauges(
      Queues queues,
      MeterRegistry meters,
      @Value("${workron.metrics.queue-refresh:5s}") Duration refresh) {
    this.queues = queues;
    this.meters = meters;
    this.loop = new GaugeLoop("queue-gauges", refresh, this::refresh);
    for (JobStatus s : new JobStatus[] {JobStatus.PENDING, JobStatus.RUNNING, JobStatus.BLOCKED}) {
      AtomicLong value = new AtomicLong();
      totals.put(s, value);
      Gauge.builder("workron_jobs_" + s.wire(), value, AtomicLong::get)
          .description("jobs " + s.wire() + " in every queue")
          .register(meters);
    }
  }

  /** Reads the counts once. Package-private so tests can call it. */
  void refresh() {
    Map<String, Map<String, Long>> counts = queues.counts();
    Map<JobStatus, Long> sums = new java.util.EnumMap<>(JobStatus.class);
    counts.forEach(
        (queue, byStatus) -> {
          for (JobStatus s : JobStatus.values()) {
            long n = byStatus.getOrDefault(s.wire(), 0L);
            gauge(queue, s).set(n);
            sums.merge(s, n, Long::sum);
          }
        });
    // a queue whose rows are gone shows 0, not its last figure
    perQueue.forEach(
        (key, value) -> {
          String queue = key.substring(0, key.indexOf('\u0000'));
          if (!counts.containsKey(queue)) {
            value.set(0);
          }
        });
    totals.forEach((s, value) -> value.set(sums.getOrDefault(s, 0L)));
  }

  private AtomicLong gauge(String queue, JobStatus status) {
    return perQueue.computeIfAbsent(
        queue + '\u0000' + status.wire(),
        k -> {
          AtomicLong value = new AtomicLong();
          Gauge.builder("workron_queue_jobs", value, AtomicLong::get)
              .description("jobs of a queue in a status, from the maintained counts")
              .tag("queue", queue)
              .tag("status", status.wire())
              .register(meters);
          return value;
        });
  }

  @Override
  public void start() {
    loop.start();
  }

  @Override
  public void stop() {
    loop.stop();
  }

  @Override
  public boolean isRunning() {
    return loop.isRunning();
  }
}
