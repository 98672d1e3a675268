package io.workron.worker.jobs;

import io.workron.kafka.DeadLetter;
import io.workron.kafka.JobTraces;
import io.workron.schemas.Envelope;
import io.workron.schemas.InvalidMessageException;
import io.workron.schemas.JobDispatch;
import io.workron.schemas.JobStop;
import io.workron.schemas.MessageType;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import io.workron.schemas.WorkerControl;
import io.workron.worker.Superseded;
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
import org.springframework.context.ApplicationEventPublisher;
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
  private final WorkerIdentity identity;
  private final ApplicationEventPublisher events;

  DispatchListener(
      WireCodec codec,
      KafkaTemplate<String, byte[]> kafka,
      WorkerIdentity identity,
      JobSlots slots,
      JobMetrics metrics,
      ApplicationEventPublisher events) {
    this.identity = identity;
    this.events = events;
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
      if (e.reason() == InvalidMessageException.Reason.WRONG_TYPE) {
        control(record);
      } else {
        deadLetter(record, e);
      }
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
    // the dispatch's span in scheduler-core is the parent of the attempt's
    slots.accept(dispatch, requestId(record), JobTraces.traceparent(record.headers()));
  }

  /**
   * A {@code job.stop.v1} or {@code worker.control.v1}, acted on when it is for this incarnation;
   * any other type goes to the dead-letter topic.
   */
  private void control(ConsumerRecord<String, byte[]> record) {
    try {
      stop(codec.decode(record.value(), MessageType.JOB_STOP).payload());
      return;
    } catch (InvalidMessageException e) {
      if (e.reason() != InvalidMessageException.Reason.WRONG_TYPE) {
        deadLetter(record, e);
        return;
      }
    }
    WorkerControl control;
    try {
      control = codec.decode(record.value(), MessageType.WORKER_CONTROL).payload();
    } catch (InvalidMessageException e) {
      deadLetter(record, e);
      return;
    }
    if (!identity.workerId().equals(control.workerId())
        || !identity.incarnation().equals(control.incarnation())) {
      log.debug("ignoring a control message for incarnation {}", control.incarnation());
      return;
    }
    switch (control.action()) {
      case SUPERSEDED -> events.publishEvent(new Superseded(control.reason()));
    }
  }

  private void stop(JobStop stop) {
    if (!identity.workerId().equals(stop.workerId())
        || !identity.incarnation().equals(stop.incarnation())) {
      log.debug("ignoring a stop for incarnation {}", stop.incarnation());
      return;
    }
    // a stop also fences the attempt: its dispatch, if it comes again, is refused
    gate.stopped(stop);
    slots.stop(stop);
  }

  /**
   * Sends the record to the dead-letter topic (a bounded copy when it is too large to send back,
   * see {@link DeadLetter}); when the broker refuses that for good, a copy without the value; when
   * it refuses even that, logs and skips the record, so nothing wedges the dispatch topic. Only a
   * broker that cannot be reached makes the record be retried.
   */
  private void deadLetter(ConsumerRecord<String, byte[]> record, InvalidMessageException e) {
    String deadLetterTopic = Topics.deadLetter(record.topic());
    if (!send(DeadLetter.of(record, e)) && !send(DeadLetter.withoutValue(record, e))) {
      log.error(
          "could not dead-letter {}-{}@{} even without its value; skipping it: {} {}",
          record.topic(),
          record.partition(),
          record.offset(),
          e.reason(),
          e.getMessage());
      return;
    }
    metrics.deadLettered(record.topic());
    log.warn(
        "invalid message at {}-{}@{} moved to {}: {} {}",
        record.topic(),
        record.partition(),
        record.offset(),
        deadLetterTopic,
        e.reason(),
        e.getMessage());
  }

  private boolean send(ProducerRecord<String, byte[]> dead) {
    try {
      kafka.send(dead).get(DEAD_LETTER_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      return true;
    } catch (InterruptedException interrupted) {
      Thread.currentThread().interrupt();
      throw new KafkaException("interrupted while dead-lettering", interrupted);
    } catch (TimeoutException failed) {
      // thrown to the container: the record is retried, not committed and lost
      throw new KafkaException("could not send to " + dead.topic(), failed);
    } catch (ExecutionException | RuntimeException failed) {
      Throwable cause = failed instanceof ExecutionException ? failed.getCause() : failed;
      if (DeadLetter.isRetriable(failed)) {
        throw new KafkaException("could not send to " + dead.topic(), failed);
      }
      log.warn("the broker refused a dead letter for {}: {}", dead.topic(), cause.toString());
      return false;
    }
  }

  private static String requestId(ConsumerRecord<String, byte[]> record) {
    Header header = record.headers().lastHeader(Topics.REQUEST_ID_HEADER);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }
}
