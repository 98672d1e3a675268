package io.workron.scheduler.workers;

import io.workron.scheduler.ingest.DeadLetters;
import io.workron.schemas.Envelope;
import io.workron.schemas.InvalidMessageException;
import io.workron.schemas.MessageType;
import io.workron.schemas.WireCodec;
import io.workron.schemas.WorkerHeartbeat;
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
  private final DeadLetters deadLetters;
  private final WorkerStore store;

  HeartbeatListener(WireCodec codec, DeadLetters deadLetters, WorkerStore store) {
    this.codec = codec;
    this.deadLetters = deadLetters;
    this.store = store;
  }

  @KafkaListener(
      id = "heartbeats",
      topics = "#{@topics.heartbeats()}",
      groupId = "#{@topics.prefix()}-scheduler-heartbeats",
      batch = "true")
  void onBatch(List<ConsumerRecord<String, byte[]>> records) {
    Map<String, WorkerHeartbeat> latest = new LinkedHashMap<>();
    for (ConsumerRecord<String, byte[]> record : records) {
      try {
        Envelope<WorkerHeartbeat> envelope =
            codec.decode(record.value(), MessageType.WORKER_HEARTBEAT);
        WorkerHeartbeat hb = envelope.payload();
        // one per incarnation, so a restart's last "stopped" and the successor's registration
        // arriving in the same poll are both applied, in order
        latest.put(hb.workerId() + "/" + hb.incarnation(), hb);
      } catch (InvalidMessageException e) {
        deadLetters.send(record, e);
      }
    }
    List<WorkerHeartbeat> ordered = new java.util.ArrayList<>(latest.values());
    // worker rows are then locked in id order, like everywhere else (stable: keeps incarnations in
    // arrival order)
    ordered.sort(java.util.Comparator.comparing(WorkerHeartbeat::workerId));
    store.record(ordered);
  }
}
