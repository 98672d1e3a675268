package io.workron.scheduler.consume;

import io.micrometer.core.instrument.MeterRegistry;
import io.workron.kafka.DeadLetter;
import io.workron.schemas.InvalidMessageException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

/**
 * Moves a message that cannot be applied to {@code <topic>.dlq} with the reason and the error in
 * headers, so the partition keeps moving and an operator can look at it later.
 *
 * <p>The copy is the original when it fits in a record the broker takes, and a bounded copy
 * otherwise (see {@link DeadLetter}). When the broker refuses even that for good, a copy without
 * the value is sent; if that too is refused, the message is logged and skipped: a record the
 * dead-letter path cannot take never wedges the consumer. Only a broker that cannot be reached (a
 * retriable failure) makes the poll fail, to be retried.
 */
@Component
public class DeadLetters {

  private static final Logger log = LoggerFactory.getLogger(DeadLetters.class);

  private final KafkaTemplate<String, byte[]> kafka;
  private final MeterRegistry meters;

  DeadLetters(
      KafkaTemplate<String, byte[]> kafka, MeterRegistry meters, io.workron.schemas.Topics topics) {
    this.kafka = kafka;
    this.meters = meters;
    // on the scrape from the start, so that a rate or an alert sees the first dead letter
    for (String topic :
        java.util.List.of(topics.submissions(), topics.results(), topics.heartbeats())) {
      meters.counter("workron_dead_letters_total", "topic", topic);
    }
  }

  /** Publishes and waits for the broker's ack, so the offset is committed only afterwards. */
  public void send(ConsumerRecord<String, byte[]> record, InvalidMessageException error) {
    ProducerRecord<String, byte[]> copy = DeadLetter.of(record, error);
    if (!trySend(copy, record)) {
      if (!trySend(DeadLetter.withoutValue(record, error), record)) {
        meters.counter("workron_dead_letters_lost_total", "topic", record.topic()).increment();
        log.error(
            "could not dead-letter {}/{}@{} even without its value; skipping it: {} {}",
            record.topic(),
            record.partition(),
            record.offset(),
            error.reason(),
            error.getMessage());
        return;
      }
    }
    meters.counter("workron_dead_letters_total", "topic", record.topic()).increment();
    log.warn(
        "dead-lettered {}/{}@{} to {}: {} {}",
        record.topic(),
        record.partition(),
        record.offset(),
        copy.topic(),
        error.reason(),
        error.getMessage());
  }

  /** False when the broker refused the copy for good; throws when it could not be reached. */
  private boolean trySend(ProducerRecord<String, byte[]> copy, ConsumerRecord<?, ?> origin) {
    try {
      kafka.send(copy).get(30, TimeUnit.SECONDS);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while dead-lettering", e);
    } catch (TimeoutException e) {
      throw new IllegalStateException("the broker did not take a dead letter; retrying", e);
    } catch (ExecutionException | RuntimeException e) {
      Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
      if (DeadLetter.isRetriable(e)) {
        throw new IllegalStateException("the broker did not take a dead letter; retrying", e);
      }
      log.warn(
          "the broker refused the dead letter of {}/{}@{} ({} bytes): {}",
          origin.topic(),
          origin.partition(),
          origin.offset(),
          copy.value() == null ? 0 : copy.value().length,
          cause.toString());
      return false;
    }
  }
}
