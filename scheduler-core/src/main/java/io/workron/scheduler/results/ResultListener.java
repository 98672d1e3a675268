package io.workron.scheduler.results;

import io.workron.scheduler.consume.PollApplier;
import io.workron.schemas.MessageType;
import io.workron.schemas.WireCodec;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

/**
 * Consumes {@code workron.results} a poll at a time, through the {@link PollApplier}; offsets are
 * committed after the database.
 */
@Component
class ResultListener {

  private final WireCodec codec;
  private final PollApplier applier;
  private final ResultStore store;

  ResultListener(WireCodec codec, PollApplier applier, ResultStore store) {
    this.codec = codec;
    this.applier = applier;
    this.store = store;
  }

  @KafkaListener(
      id = "results",
      topics = "#{@topics.results()}",
      groupId = "#{@topics.prefix()}-scheduler-results",
      concurrency = "${workron.scheduler.results-concurrency:2}",
      batch = "true")
  void onBatch(List<ConsumerRecord<String, byte[]>> records) {
    applier.apply(
        "results",
        records,
        record -> codec.decode(record.value(), MessageType.JOB_RESULT).payload(),
        store::apply);
  }
}
