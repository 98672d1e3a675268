package io.workron.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.workron.schemas.InvalidMessageException;
import io.workron.schemas.InvalidMessageException.Reason;
import io.workron.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;

class DeadLetterTest {

  private static final InvalidMessageException TOO_LARGE =
      new InvalidMessageException(Reason.TOO_LARGE, "", "message of 2097152 bytes exceeds 1048576");

  @Test
  void aSmallRecordIsDeadLetteredWholeWithItsHeadersAndWhyAndWhereFrom() {
    ConsumerRecord<String, byte[]> record =
        record("k", "{\"bad\":".getBytes(StandardCharsets.UTF_8));
    record.headers().add("workron-request-id", "req-1".getBytes(StandardCharsets.UTF_8));

    ProducerRecord<String, byte[]> dead =
        DeadLetter.of(
            record, new InvalidMessageException(Reason.SCHEMA_INVALID, "/payload/id", "bad id"));

    assertThat(dead.topic()).isEqualTo("t.results.dlq");
    assertThat(dead.key()).isEqualTo("k");
    assertThat(dead.value()).isEqualTo(record.value());
    assertThat(header(dead, "workron-request-id")).isEqualTo("req-1");
    assertThat(header(dead, Topics.DLQ_REASON_HEADER)).isEqualTo("SCHEMA_INVALID");
    assertThat(header(dead, Topics.DLQ_ERROR_HEADER)).isEqualTo("/payload/id: bad id");
    assertThat(header(dead, DeadLetter.ORIGIN_HEADER)).isEqualTo("t.results/3@17");
    assertThat(dead.headers().lastHeader(DeadLetter.TRUNCATED_HEADER)).isNull();
  }

  @Test
  void aRecordTooLargeToSendBackIsDeadLetteredAsABoundedCopy() {
    byte[] huge = new byte[2 * 1024 * 1024];
    Arrays.fill(huge, (byte) 'x');
    ConsumerRecord<String, byte[]> record = record("k".repeat(100_000), huge);
    record.headers().add("big", new byte[64 * 1024]);

    ProducerRecord<String, byte[]> dead = DeadLetter.of(record, TOO_LARGE);

    assertThat(dead.value()).hasSize(DeadLetter.VALUE_PREFIX_BYTES);
    assertThat(dead.key()).hasSize(DeadLetter.MAX_TEXT_CHARS);
    assertThat(dead.headers().lastHeader("big")).isNull();
    assertThat(header(dead, DeadLetter.TRUNCATED_HEADER)).isEqualTo("true");
    assertThat(header(dead, DeadLetter.ORIGINAL_SIZE_HEADER)).isEqualTo("2097152");
    assertThat(header(dead, Topics.DLQ_REASON_HEADER)).isEqualTo("TOO_LARGE");
    assertThat(size(dead)).isLessThan(DeadLetter.MAX_WHOLE_BYTES);
  }

  @Test
  void theLastResortCarriesNoValueOnlyWhyAndWhereFrom() {
    ConsumerRecord<String, byte[]> record = record("k", new byte[10]);

    ProducerRecord<String, byte[]> dead = DeadLetter.withoutValue(record, TOO_LARGE);

    assertThat(dead.value()).isNull();
    assertThat(header(dead, DeadLetter.ORIGIN_HEADER)).isEqualTo("t.results/3@17");
    assertThat(header(dead, DeadLetter.TRUNCATED_HEADER)).isEqualTo("true");
  }

  @Test
  void aSendThatTimedOutOrFoundNoBrokerIsRetriedHoweverDeeplyItIsWrapped() {
    Exception wrapped =
        new java.util.concurrent.ExecutionException(
            new RuntimeException(
                "KafkaProducerException",
                new org.apache.kafka.common.errors.TimeoutException("no metadata in 10000 ms")));

    assertThat(DeadLetter.isRetriable(wrapped)).isTrue();
    assertThat(
            DeadLetter.isRetriable(
                new RuntimeException(
                    new org.apache.kafka.common.errors.NotLeaderOrFollowerException("moved"))))
        .isTrue();
    assertThat(
            DeadLetter.isRetriable(
                new java.util.concurrent.ExecutionException(
                    new RuntimeException(
                        new org.apache.kafka.common.errors.RecordTooLargeException("2 MiB")))))
        .isFalse();
  }

  private static ConsumerRecord<String, byte[]> record(String key, byte[] value) {
    return new ConsumerRecord<>("t.results", 3, 17, key, value);
  }

  private static String header(ProducerRecord<String, byte[]> r, String name) {
    return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
  }

  private static int size(ProducerRecord<String, byte[]> r) {
    int size = r.value().length + r.key().length();
    for (var h : r.headers()) {
      size += h.key().length() + h.value().length;
    }
    return size;
  }
}
