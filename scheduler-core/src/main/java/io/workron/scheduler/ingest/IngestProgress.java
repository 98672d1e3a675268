package io.workron.scheduler.ingest;

import java.util.HashMap;
import java.util.Map;
import org.jooq.DSLContext;
import org.springframework.stereotype.Component;

/**
 * The {@code ingest_progress} table: per submissions partition, the offset after the last record
 * ingestion handled. Written once a poll's records are all stored or dead-lettered (in a
 * transaction of its own right after theirs, so progress never runs ahead of what is stored) and
 * announced with a PostgreSQL {@code NOTIFY} on {@value #CHANNEL}, so every replica can answer "is
 * the record at this offset stored yet?" without polling.
 */
@Component
public class IngestProgress {

  /** The {@code LISTEN}/{@code NOTIFY} channel of ingest commits. */
  static final String CHANNEL = "workron_ingest";

  private final DSLContext db;

  IngestProgress(DSLContext db) {
    this.db = db;
  }

  /** Records progress inside the caller's transaction; never moves a partition backwards. */
  void advance(Map<Integer, Long> nextOffsets) {
    if (nextOffsets.isEmpty()) {
      return;
    }
    Integer[] partitions = nextOffsets.keySet().toArray(Integer[]::new);
    Long[] offsets = new Long[partitions.length];
    for (int i = 0; i < partitions.length; i++) {
      offsets[i] = nextOffsets.get(partitions[i]);
    }
    db.execute(
        "insert into ingest_progress (kafka_partition, next_offset) "
            + "select * from unnest(?::int[], ?::bigint[]) order by 1 "
            + "on conflict (kafka_partition) do update "
            + "set next_offset = greatest(ingest_progress.next_offset, excluded.next_offset)",
        partitions,
        offsets);
    db.execute("select pg_notify(?, '')", CHANNEL);
  }

  /**
   * Starts the progress of partitions that have none (ingested before progress was kept) at the
   * offsets the ingest consumer group has committed, which never run ahead of what is stored.
   */
  void startMissing(Map<Integer, Long> committed) {
    if (committed.isEmpty()) {
      return;
    }
    Integer[] partitions = committed.keySet().toArray(Integer[]::new);
    Long[] offsets = new Long[partitions.length];
    for (int i = 0; i < partitions.length; i++) {
      offsets[i] = committed.get(partitions[i]);
    }
    db.execute(
        "insert into ingest_progress (kafka_partition, next_offset) "
            + "select * from unnest(?::int[], ?::bigint[]) on conflict do nothing",
        partitions,
        offsets);
  }

  /** Every partition's next offset; a partition never ingested is absent (read as 0). */
  Map<Integer, Long> read() {
    Map<Integer, Long> progress = new HashMap<>();
    db.resultQuery("select kafka_partition, next_offset from ingest_progress")
        .forEach(r -> progress.put(r.get(0, Integer.class), r.get(1, Long.class)));
    return progress;
  }

  /** True when every record before {@code offsets} (partition to offset) has been handled. */
  static boolean reached(Map<Integer, Long> progress, Map<Integer, Long> offsets) {
    for (Map.Entry<Integer, Long> wanted : offsets.entrySet()) {
      if (progress.getOrDefault(wanted.getKey(), 0L) < wanted.getValue()) {
        return false;
      }
    }
    return true;
  }
}
