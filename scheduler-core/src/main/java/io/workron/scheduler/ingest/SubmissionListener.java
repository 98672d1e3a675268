package io.workron.scheduler.ingest;

import io.workron.schemas.Envelope;
import io.workron.schemas.InvalidMessageException;
import io.workron.schemas.JobSubmission;
import io.workron.schemas.MessageType;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.springframework.dao.DataAccessException;
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
    Map<Integer, Long> nextOffsets = nextOffsets(records);
    List<SubmissionStore.Accepted> accepted = new ArrayList<>(records.size());
    List<ConsumerRecord<String, byte[]>> origins = new ArrayList<>(records.size());
    for (ConsumerRecord<String, byte[]> record : records) {
      try {
        Envelope<JobSubmission> envelope = codec.decode(record.value(), MessageType.JOB_SUBMITTED);
        accepted.add(
            new SubmissionStore.Accepted(
                envelope.payload().withDefaults(), requestId(record), envelope.time()));
        origins.add(record);
      } catch (InvalidMessageException e) {
        deadLetters.send(record, e);
      }
    }
    try {
      store.store(accepted, nextOffsets);
    } catch (DataAccessException e) {
      if (!StoreRejection.isPermanent(e)) {
        throw e; // the database is unwell: the container retries the whole poll
      }
      storeOneByOne(accepted, origins);
      store.store(List.of(), nextOffsets);
    }
  }

  /** Per partition, the offset after the last record of the poll. */
  static Map<Integer, Long> nextOffsets(List<ConsumerRecord<String, byte[]>> records) {
    Map<Integer, Long> next = new HashMap<>();
    for (ConsumerRecord<String, byte[]> r : records) {
      next.merge(r.partition(), r.offset() + 1, Math::max);
    }
    return next;
  }

  /**
   * The database refused the batch for something in its data, not its health: store the documents
   * one at a time and dead-letter the one it refuses, so one bad submission cannot hold the
   * partition (the failed batch was rolled back whole; storing is idempotent).
   */
  private void storeOneByOne(
      List<SubmissionStore.Accepted> accepted, List<ConsumerRecord<String, byte[]>> origins) {
    for (int i = 0; i < accepted.size(); i++) {
      try {
        store.store(List.of(accepted.get(i)), Map.of());
      } catch (DataAccessException e) {
        if (!StoreRejection.isPermanent(e)) {
          throw e;
        }
        deadLetters.send(
            origins.get(i),
            new InvalidMessageException(
                InvalidMessageException.Reason.REJECTED_BY_STORE,
                "",
                "PostgreSQL refused to store it: " + StoreRejection.describe(e)));
      }
    }
  }

  static String requestId(ConsumerRecord<String, byte[]> record) {
    Header h = record.headers().lastHeader(Topics.REQUEST_ID_HEADER);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }
}
