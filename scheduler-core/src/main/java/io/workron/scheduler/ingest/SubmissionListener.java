package io.workron.scheduler.ingest;

import io.workron.schemas.Envelope;
import io.workron.schemas.InvalidMessageException;
import io.workron.schemas.JobSubmission;
import io.workron.schemas.MessageType;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

/**
 * Consumes {@code workron.submissions} a poll at a time. The whole poll is stored in one
 * transaction; the container commits the offsets only after this method returns, that is after
 * PostgreSQL has committed, so an acknowledged submission is never lost and a redelivered one is
 * ignored by its job id.
 */
@Component
class SubmissionListener {

  private final WireCodec codec;
  private final DeadLetters deadLetters;
  private final SubmissionStore store;

  SubmissionListener(WireCodec codec, DeadLetters deadLetters, SubmissionStore store) {
    this.codec = codec;
    this.deadLetters = deadLetters;
    this.store = store;
  }

  @KafkaListener(
      id = "submissions",
      topics = "#{@topics.submissions()}",
      groupId = "#{@topics.prefix()}-scheduler-submissions",
      concurrency = "${workron.scheduler.ingest-concurrency:2}",
      batch = "true")
  void onBatch(List<ConsumerRecord<String, byte[]>> records) {
    List<SubmissionStore.Accepted> accepted = new ArrayList<>(records.size());
    for (ConsumerRecord<String, byte[]> record : records) {
      try {
        Envelope<JobSubmission> envelope = codec.decode(record.value(), MessageType.JOB_SUBMITTED);
        accepted.add(
            new SubmissionStore.Accepted(
                envelope.payload().withDefaults(), requestId(record), envelope.time()));
      } catch (InvalidMessageException e) {
        deadLetters.send(record, e);
      }
    }
    store.store(accepted);
  }

  static String requestId(ConsumerRecord<String, byte[]> record) {
    Header h = record.headers().lastHeader(Topics.REQUEST_ID_HEADER);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }
}
