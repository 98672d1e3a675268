package io.workron.scheduler.ingest;

import io.micrometer.core.instrument.MeterRegistry;
import io.workron.schemas.InvalidMessageException;
import io.workron.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

/**
 * Moves a message that cannot be read to {@code <topic>.dlq}, unchanged, with the reason and the
 * error in headers, so the partition keeps moving and an operator can look at it later.
 */
@Component
public class DeadLetters {

  private static final Logger log = LoggerFactory.getLogger(DeadLetters.class);

  private final KafkaTemplate<String, byte[]> kafka;
  private final MeterRegistry meters;

  DeadLetters(KafkaTemplate<String, byte[]> kafka, MeterRegistry meters) {
    this.kafka = kafka;
    this.meters = meters;
  }

  /** Publishes and waits for the broker's ack, so the offset is committed only afterwards. */
  public void send(ConsumerRecord<String, byte[]> record, InvalidMessageException error) {
    String dlq = Topics.deadLetter(record.topic());
    ProducerRecord<String, byte[]> out = new ProducerRecord<>(dlq, record.key(), record.value());
    for (Header h : record.headers()) {
      out.headers().add(h);
    }
    out.headers().add(Topics.DLQ_REASON_HEADER, bytes(error.reason().name()));
    out.headers().add(Topics.DLQ_ERROR_HEADER, bytes(error.getMessage()));
    out.headers()
        .add(
            "workron-dlq-origin",
            bytes(record.topic() + "/" + record.partition() + "@" + record.offset()));
    try {
      kafka.send(out).get(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while dead-lettering", e);
    } catch (Exception e) {
      throw new IllegalStateException(
          "could not dead-letter a message; the batch will be retried", e);
    }
    meters.counter("workron_dead_letters_total", "topic", record.topic()).increment();
    log.warn(
        "dead-lettered {}/{}@{} to {}: {} {}",
        record.topic(),
        record.partition(),
        record.offset(),
        dlq,
        error.reason(),
        error.getMessage());
  }

  private static byte[] bytes(String s) {
    return (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
  }
}
