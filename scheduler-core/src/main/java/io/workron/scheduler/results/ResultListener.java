package io.workron.scheduler.results;

import io.workron.scheduler.ingest.DeadLetters;
import io.workron.schemas.Envelope;
import io.workron.schemas.InvalidMessageException;
import io.workron.schemas.JobResult;
import io.workron.schemas.MessageType;
import io.workron.schemas.WireCodec;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

/** Consumes {@code workron.results} a poll at a time; offsets are committed after the database. */
@Component
class ResultListener {

  private final WireCodec codec;
  private final DeadLetters deadLetters;
  private final ResultStore store;

  ResultListener(WireCodec codec, DeadLetters deadLetters, ResultStore store) {
    this.codec = codec;
    this.deadLetters = deadLetters;
    this.store = store;
  }

  @KafkaListener(
      id = "results",
      topics = "#{@topics.results()}",
      groupId = "#{@topics.prefix()}-scheduler-results",
      concurrency = "${workron.scheduler.results-concurrency:2}",
      batch = "true")
  void onBatch(List<ConsumerRecord<String, byte[]>> records) {
    List<JobResult> results = new ArrayList<>(records.size());
    for (ConsumerRecord<String, byte[]> record : records) {
      try {
        Envelope<JobResult> envelope = codec.decode(record.value(), MessageType.JOB_RESULT);
        results.add(envelope.payload());
      } catch (InvalidMessageException e) {
        deadLetters.send(record, e);
      }
    }
    store.apply(results);
  }
}
