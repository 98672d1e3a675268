package io.workron.worker.jobs;

import io.workron.schemas.Envelope;
import io.workron.schemas.InvalidMessageException;
import io.workron.schemas.JobDispatch;
import io.workron.schemas.MessageType;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import io.workron.worker.WorkerIdentity;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.listener.MessageListener;
import org.springframework.stereotype.Component;

/**
 * Handles one record of the worker's dispatch topic: an invalid message goes to the dead-letter
 * topic, a dispatch that is not this incarnation's is ignored, anything else is queued to run.
 * Returning normally lets the container commit the offset.
 */
@Component
class DispatchListener implements MessageListener<String, byte[]> {

  private static final Logger log = LoggerFactory.getLogger(DispatchListener.class);
  private static final long DEAD_LETTER_TIMEOUT_SECONDS = 30;

  private final WireCodec codec;
  private final KafkaTemplate<String, byte[]> kafka;
  private final DispatchGate gate;
  private final JobSlots slots;
  private final JobMetrics metrics;

  DispatchListener(
      WireCodec codec,
      KafkaTemplate<String, byte[]> kafka,
      WorkerIdentity identity,
      JobSlots slots,
      JobMetrics metrics) {
    this.codec = codec;
    this.kafka = kafka;
    this.gate = new DispatchGate(identity);
    this.slots = slots;
    this.metrics = metrics;
  }

  @Override
  public void onMessage(ConsumerRecord<String, byte[]> record) {
    Envelope<JobDispatch> envelope;
    try {
      envelope = codec.decode(record.value(), MessageType.JOB_DISPATCH);
    } catch (InvalidMessageException e) {
      deadLetter(record, e);
      return;
    }
    JobDispatch dispatch = envelope.payload();
    Optional<DispatchGate.Refusal> refusal = gate.admit(dispatch);
    if (refusal.isPresent()) {
      metrics.ignored(refusal.get());
      log.info(
          "ignoring dispatch job_id={} attempt={} worker_id={} incarnation={}: {}",
          dispatch.jobId(),
          dispatch.attempt(),
          dispatch.workerId(),
          dispatch.incarnation(),
          refusal.get().tag());
      return;
    }
    slots.accept(dispatch, requestId(record));
  }

  private void deadLetter(ConsumerRecord<String, byte[]> record, InvalidMessageException e) {
    String deadLetterTopic = Topics.deadLetter(record.topic());
    ProducerRecord<String, byte[]> dead =
        new ProducerRecord<>(deadLetterTopic, null, record.key(), record.value(), record.headers());
    dead.headers()
        .add(Topics.DLQ_REASON_HEADER, e.reason().name().getBytes(StandardCharsets.UTF_8));
    dead.headers().add(Topics.DLQ_ERROR_HEADER, describe(e).getBytes(StandardCharsets.UTF_8));
    try {
      kafka.send(dead).get(DEAD_LETTER_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException interrupted) {
      Thread.currentThread().interrupt();
      throw new KafkaException("interrupted while dead-lettering", interrupted);
    } catch (ExecutionException | TimeoutException failed) {
      // thrown to the container: the record is retried, not committed and lost
      throw new KafkaException("could not send to " + deadLetterTopic, failed);
    }
    metrics.deadLettered(record.topic());
    log.warn(
        "invalid message at {}-{}@{} moved to {}: {} {}",
        record.topic(),
        record.partition(),
        record.offset(),
        deadLetterTopic,
        e.reason(),
        describe(e));
  }

  private static String describe(InvalidMessageException e) {
    return e.field() == null || e.field().isEmpty()
        ? e.getMessage()
        : e.field() + ": " + e.getMessage();
  }

  private static String requestId(ConsumerRecord<String, byte[]> record) {
    Header header = record.headers().lastHeader(Topics.REQUEST_ID_HEADER);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }
}
