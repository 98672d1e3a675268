package io.workron.scheduler.liveness;

import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.jooq.DSLContext;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The {@code consumer_watermarks} table: per partition of the heartbeats and results topics, the
 * newest broker timestamp applied. Also remembers, in this replica, when it last moved each
 * partition's watermark, so readiness can tell a stalled consumer.
 */
@Component
public class Watermarks {

  /** Which topic a watermark is of. */
  public enum Kind {
    HEARTBEATS("heartbeats"),
    RESULTS("results");

    private final String column;

    Kind(String column) {
      this.column = column;
    }

    String column() {
      return column;
    }
  }

  /**
   * The heartbeats watermark that speaks for worker {@code w}: its partition's; for a worker whose
   * partition is not known yet (registered before watermarks existed), the oldest of all partitions
   * (every partition has been read that far) with the latest resumption.
   */
  public static final String EVIDENCE =
      "select coalesce(p.watermark, a.watermark) as watermark, "
          + "coalesce(p.resumed_at, a.resumed_at) as resumed_at "
          + "from (select min(watermark) as watermark, max(resumed_at) as resumed_at "
          + "  from consumer_watermarks where topic_kind = 'heartbeats') a "
          + "left join consumer_watermarks p on p.topic_kind = 'heartbeats' "
          + "  and p.kafka_partition = w.heartbeat_partition";

  private final DSLContext db;
  private final TransactionTemplate tx;
  private final Clock clock;
  private final Map<Kind, Map<Integer, Instant>> advancedHere = new ConcurrentHashMap<>();

  /** Records of one partition further apart than this mean the partition was unavailable. */
  private final java.time.Duration gap;

  Watermarks(
      DSLContext db,
      TransactionTemplate tx,
      Clock clock,
      io.workron.scheduler.config.SchedulerProperties properties) {
    this.db = db;
    this.tx = tx;
    this.clock = clock;
    this.gap = properties.workerOfflineAfter().dividedBy(2);
  }

  /**
   * Records that every record of {@code records} (applied or dead-lettered) has been handled: each
   * partition's watermark becomes the newest broker timestamp among them, never moving back. When
   * two records of a partition are further apart than half of {@code worker-offline-after} (the
   * broker was away: ticks come every second), the partition's {@code resumed_at} moves to the
   * later one, and silence is counted again from there.
   */
  public void advance(Kind kind, List<? extends ConsumerRecord<?, ?>> records) {
    Map<Integer, List<Long>> byPartition = new HashMap<>();
    for (ConsumerRecord<?, ?> r : records) {
      byPartition
          .computeIfAbsent(r.partition(), p -> new java.util.ArrayList<>())
          .add(r.timestamp());
    }
    if (byPartition.isEmpty()) {
      return;
    }
    Integer[] partitions = byPartition.keySet().stream().sorted().toArray(Integer[]::new);
    OffsetDateTime[] marks = new OffsetDateTime[partitions.length];
    OffsetDateTime[] resumed = new OffsetDateTime[partitions.length];
    tx.executeWithoutResult(
        status -> {
          Map<Integer, long[]> stored = new HashMap<>();
          db.resultQuery(
                  "select kafka_partition, watermark, resumed_at from consumer_watermarks "
                      + "where topic_kind = ? and kafka_partition = any(?::int[]) "
                      + "order by kafka_partition for update",
                  kind.column(),
                  partitions)
              .forEach(
                  r ->
                      stored.put(
                          r.get(0, Integer.class),
                          new long[] {
                            r.get(1, OffsetDateTime.class).toInstant().toEpochMilli(),
                            r.get(2, OffsetDateTime.class).toInstant().toEpochMilli()
                          }));
          for (int i = 0; i < partitions.length; i++) {
            long[] state = stored.get(partitions[i]);
            Long mark = state == null ? null : state[0];
            Long since = state == null ? null : state[1];
            for (long ts : byPartition.get(partitions[i])) {
              if (mark == null || ts - mark > gap.toMillis()) {
                since = ts;
              }
              mark = mark == null ? ts : Math.max(mark, ts);
            }
            marks[i] = Instant.ofEpochMilli(mark).atOffset(ZoneOffset.UTC);
            resumed[i] = Instant.ofEpochMilli(since).atOffset(ZoneOffset.UTC);
          }
          db.execute(
              "insert into consumer_watermarks (topic_kind, kafka_partition, watermark, resumed_at) "
                  + "select ?, * from unnest(?::int[], ?::timestamptz[], ?::timestamptz[]) "
                  + "on conflict (topic_kind, kafka_partition) do update "
                  + "set watermark = excluded.watermark, resumed_at = excluded.resumed_at",
              kind.column(),
              partitions,
              marks,
              resumed);
        });
    Instant now = clock.instant();
    Map<Integer, Instant> here = advancedHere.computeIfAbsent(kind, k -> new ConcurrentHashMap<>());
    for (Integer p : partitions) {
      here.put(p, now);
    }
  }

  /** Partition to watermark; a partition never applied is absent. */
  public Map<Integer, OffsetDateTime> read(Kind kind) {
    Map<Integer, OffsetDateTime> out = new HashMap<>();
    db.resultQuery(
            "select kafka_partition, watermark from consumer_watermarks where topic_kind = ?",
            kind.column())
        .forEach(r -> out.put(r.get(0, Integer.class), r.get(1, OffsetDateTime.class)));
    return out;
  }

  /** When this replica last moved the watermark of {@code partition}, or null if never. */
  Instant lastAdvancedHere(Kind kind, int partition) {
    Map<Integer, Instant> here = advancedHere.get(kind);
    return here == null ? null : here.get(partition);
  }
}
