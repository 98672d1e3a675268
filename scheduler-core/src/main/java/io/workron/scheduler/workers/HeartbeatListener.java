package io.workron.scheduler.workers;

import io.workron.scheduler.consume.PollApplier;
import io.workron.schemas.MessageType;
import io.workron.schemas.WireCodec;
import io.workron.schemas.WorkerHeartbeat;
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

  HeartbeatListener(WireCodec codec, PollApplier applier, WorkerStore store) {
    this.codec = codec;
    this.applier = applier;
    this.store = store;
  }

  @KafkaListener(
      id = "heartbeats",
      topics = "#{@topics.heartbeats()}",
      groupId = "#{@topics.prefix()}-scheduler-heartbeats",
      batch = "true")
  void onBatch(List<ConsumerRecord<String, byte[]>> records) {
    applier.apply(
        "heartbeats",
        records,
        record -> codec.decode(record.value(), MessageType.WORKER_HEARTBEAT).payload(),
        heartbeats -> store.record(newestPerIncarnation(heartbeats)));
  }

  /**
   * The newest heartbeat of each worker incarnation, sorted by worker id (worker rows are locked in
   * id order, like everywhere else; the sort is stable, so incarnations stay in arrival order and a
   * restart's last "stopped" and the successor's registration in one poll are both applied, in
   * order).
   */
  static List<WorkerHeartbeat> newestPerIncarnation(List<WorkerHeartbeat> heartbeats) {
    Map<String, WorkerHeartbeat> latest = new LinkedHashMap<>();
    for (WorkerHeartbeat hb : heartbeats) {
      latest.remove(hb.workerId() + "/" + hb.incarnation());
      latest.put(hb.workerId() + "/" + hb.incarnation(), hb);
    }
    List<WorkerHeartbeat> ordered = new ArrayList<>(latest.values());
    ordered.sort(Comparator.comparing(WorkerHeartbeat::workerId));
    return ordered;
  }
}
