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

/** Consumes {@code workron.heartbeats}; only the newest heartbeat per worker in a poll matters. */
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
        latest.put(envelope.payload().workerId(), envelope.payload());
      } catch (InvalidMessageException e) {
        deadLetters.send(record, e);
      }
    }
    store.record(List.copyOf(latest.values()));
  }
}
