package io.workron.scheduler.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.jooq.DSLContext;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * What the alerts watch in the database, read every {@code workron.metrics.queue-refresh} (5 s)
 * from small tables and partial indexes only:
 *
 * <ul>
 *   <li>{@code workron_workers{status}}: registered workers by status ({@code active}, {@code
 *       draining}, {@code offline}), and {@code workron_worker_slots_offered}, the slots of the
 *       ones not offline;
 *   <li>{@code workron_outbox_rows} and {@code workron_outbox_oldest_age_seconds}: messages written
 *       but not yet relayed to Kafka, and how long the oldest has waited (0 when none);
 *   <li>{@code workron_jobs_unschedulable} and {@code workron_gangs_unschedulable}: pending jobs,
 *       and open gangs, that no registered workers could hold.
 * </ul>
 *
 * Every replica reports the same figures: aggregate with {@code max}.
 */
@Component
public class FleetGauges implements SmartLifecycle {

  /** Worker statuses, as {@code WorkerStore} writes them. */
  static final List<String> WORKER_STATUSES = List.of("active", "draining", "offline");

  /** The outbox is counted up to this many rows; past it the figure is a floor. */
  private static final int OUTBOX_COUNT_CAP = 1_000_000;

  private final DSLContext db;
  private final Map<String, AtomicLong> workers = new ConcurrentHashMap<>();
  private final AtomicLong slots = new AtomicLong();
  private final AtomicLong outboxRows = new AtomicLong();
  private final AtomicLong outboxOldestMillis = new AtomicLong();
  private final AtomicLong unschedulable = new AtomicLong();
  private final AtomicLong gangsUnschedulable = new AtomicLong();
  private final GaugeLoop loop;

  FleetGauges(
      DSLContext db,
      MeterRegistry meters,
      @Value("${workron.metrics.queue-refresh:5s}") Duration refresh) {
    this.db = db;
    for (String status : WORKER_STATUSES) {
      AtomicLong value = new AtomicLong();
      workers.put(status, value);
      Gauge.builder("workron_workers", value, AtomicLong::get)
          .description("registered workers by status")
          .tag("status", status)
          .register(meters);
    }
    Gauge.builder("workron_worker_slots_offered", slots, AtomicLong::get)
        .description("job slots of the workers not offline")
        .register(meters);
    Gauge.builder("workron_outbox_rows", outboxRows, AtomicLong::get)
        .description("messages written to the outbox and not yet relayed to Kafka")
        .register(meters);
    Gauge.builder("workron_outbox_oldest_age_seconds", outboxOldestMillis, m -> m.get() / 1000.0)
        .description("how long the oldest message in the outbox has waited; 0 when it is empty")
        .register(meters);
    Gauge.builder("workron_jobs_unschedulable", unschedulable, AtomicLong::get)
        .description("pending jobs that no registered worker could hold")
        .register(meters);
    Gauge.builder("workron_gangs_unschedulable", gangsUnschedulable, AtomicLong::get)
        .description("open gangs that the registered workers could never hold together")
        .register(meters);
    this.loop = new GaugeLoop("fleet-gauges", refresh, this::refresh);
  }

  /** Reads the figures once. */
  void refresh() {
    Map<String, Long> byStatus =
        db.resultQuery("select status, count(*) from workers group by status")
            .fetchMap(r -> r.get(0, String.class), r -> r.get(1, Long.class));
    workers.forEach((status, value) -> value.set(byStatus.getOrDefault(status, 0L)));
    Long offered =
        db.resultQuery("select coalesce(sum(slots), 0) from workers where status <> 'offline'")
            .fetchOne(0, Long.class);
    slots.set(offered == null ? 0 : offered);
    Long rows =
        db.resultQuery("select count(*) from (select 1 from outbox limit ?) o", OUTBOX_COUNT_CAP)
            .fetchOne(0, Long.class);
    outboxRows.set(rows == null ? 0 : rows);
    OffsetDateTime oldest =
        db.resultQuery("select created_at from outbox order by id limit 1")
            .fetchOne(0, OffsetDateTime.class);
    outboxOldestMillis.set(
        oldest == null
            ? 0
            : Math.max(0, Duration.between(oldest, OffsetDateTime.now()).toMillis()));
    Long waiting =
        db.resultQuery(
                "select count(*) from jobs where unschedulable_since is not null "
                    + "and status = 'pending'")
            .fetchOne(0, Long.class);
    unschedulable.set(waiting == null ? 0 : waiting);
    Long gangs =
        db.resultQuery(
                "select count(*) from gangs where unschedulable_since is not null "
                    + "and finished_at is null")
            .fetchOne(0, Long.class);
    gangsUnschedulable.set(gangs == null ? 0 : gangs);
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
