package io.workron.scheduler.workers;

import io.workron.scheduler.consume.PollApplier;
import io.workron.scheduler.liveness.Watermarks;
import io.workron.schemas.MessageType;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

/**
 * Consumes {@code workron.heartbeats}; the newest heartbeat per worker incarnation in a poll
 * counts.
 */
@Component
class HeartbeatListener {

  private final WireCodec codec;
  private final PollApplier applier;
  private final WorkerStore store;
  private final Watermarks watermarks;

  HeartbeatListener(
      WireCodec codec, PollApplier applier, WorkerStore store, Watermarks watermarks) {
    this.codec = codec;
    this.applier = applier;
    this.store = store;
    this.watermarks = watermarks;
  }

  @KafkaListener(
      id = "heartbeats",
      topics = "#{@topics.heartbeats()}",
      groupId = "#{@topics.prefix()}-scheduler-heartbeats",
      batch = "true")
  void onBatch(List<ConsumerRecord<String, byte[]>> records) {
    applier.apply(
        "heartbeats",
        records.stream().filter(r -> r.headers().lastHeader(Topics.TICK_HEADER) == null).toList(),
        record ->
            new WorkerStore.Received(
                codec.decode(record.value(), MessageType.WORKER_HEARTBEAT).payload(),
                OffsetDateTime.ofInstant(Instant.ofEpochMilli(record.timestamp()), ZoneOffset.UTC),
                record.partition()),
        heartbeats -> store.record(newestPerIncarnation(heartbeats)),
        // every record of the poll, ticks included, is handled: the partitions' watermarks move
        () -> watermarks.advance(Watermarks.Kind.HEARTBEATS, records));
  }

  /**
   * The newest heartbeat of each worker incarnation, sorted by worker id (worker rows are locked in
   * id order, like everywhere else; the sort is stable, so incarnations stay in arrival order and a
   * restart's last "stopped" and the successor's registration in one poll are both applied, in
   * order).
   */
  static List<WorkerStore.Received> newestPerIncarnation(List<WorkerStore.Received> heartbeats) {
    Map<String, WorkerStore.Received> latest = new LinkedHashMap<>();
    for (WorkerStore.Received r : heartbeats) {
      String key = r.heartbeat().workerId() + "/" + r.heartbeat().incarnation();
      latest.remove(key);
      latest.put(key, r);
    }
    List<WorkerStore.Received> ordered = new ArrayList<>(latest.values());
    ordered.sort(Comparator.comparing(r -> r.heartbeat().workerId()));
    return ordered;
  }
}
