package io.workron.kafka;

import io.workron.schemas.InvalidMessageException;
import io.workron.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The record that goes to {@code <topic>.dlq} for a record a consumer cannot apply: the original,
 * with the reason, the error and where it came from in headers.
 *
 * <p>A record can reach a consumer that no producer could send back as it is: a compressed batch
 * delivers a 2 MiB value, which the broker (1 MiB by default) and the producer's {@code
 * max.request.size} refuse uncompressed. So a record larger than {@link #MAX_WHOLE_BYTES} is
 * dead-lettered as a bounded copy: the first {@link #VALUE_PREFIX_BYTES} of its value, its headers
 * if they are small, and {@value #TRUNCATED_HEADER}/{@value #ORIGINAL_SIZE_HEADER} saying so. The
 * original stays in its topic until retention, at the offset {@value #ORIGIN_HEADER} names.
 */
public final class DeadLetter {

  /** Largest record dead-lettered whole; well under what brokers and producers take by default. */
  public static final int MAX_WHOLE_BYTES = 512 * 1024;

  /** How much of a larger value the bounded copy keeps. */
  public static final int VALUE_PREFIX_BYTES = 64 * 1024;

  /** Original headers larger than this together are left out of a bounded copy. */
  static final int MAX_HEADER_BYTES = 16 * 1024;

  /** Longest key and error text a dead letter carries. */
  static final int MAX_TEXT_CHARS = 4096;

  /** {@code topic/partition@offset} of the original. */
  public static final String ORIGIN_HEADER = "workron-dlq-origin";

  /** Present ({@code true}) when the dead letter is a bounded copy. */
  public static final String TRUNCATED_HEADER = "workron-dlq-truncated";

  /** Size in bytes of the original value. */
  public static final String ORIGINAL_SIZE_HEADER = "workron-dlq-original-size";

  private DeadLetter() {}

  /** The dead letter of {@code record}: the original when it is small enough, else bounded. */
  public static ProducerRecord<String, byte[]> of(
      ConsumerRecord<String, byte[]> record, InvalidMessageException error) {
    byte[] value = record.value();
    int valueSize = value == null ? 0 : value.length;
    int headerSize = size(record.headers());
    String key = record.key();
    boolean whole =
        valueSize + headerSize + (key == null ? 0 : key.length() * 4) <= MAX_WHOLE_BYTES;
    if (whole) {
      Headers headers = new RecordHeaders(record.headers().toArray());
      describe(headers, record, error, valueSize);
      return new ProducerRecord<>(Topics.deadLetter(record.topic()), null, key, value, headers);
    }
    Headers headers =
        headerSize <= MAX_HEADER_BYTES
            ? new RecordHeaders(record.headers().toArray())
            : new RecordHeaders();
    describe(headers, record, error, valueSize);
    headers.add(TRUNCATED_HEADER, bytes("true"));
    byte[] prefix =
        value == null ? null : Arrays.copyOf(value, Math.min(valueSize, VALUE_PREFIX_BYTES));
    return new ProducerRecord<>(
        Topics.deadLetter(record.topic()), null, bounded(key), prefix, headers);
  }

  /**
   * The last resort when the broker refused even {@link #of}: no value and none of the original
   * headers, only why and where from.
   */
  public static ProducerRecord<String, byte[]> withoutValue(
      ConsumerRecord<String, byte[]> record, InvalidMessageException error) {
    Headers headers = new RecordHeaders();
    describe(headers, record, error, record.value() == null ? 0 : record.value().length);
    headers.add(TRUNCATED_HEADER, bytes("true"));
    return new ProducerRecord<>(
        Topics.deadLetter(record.topic()), null, bounded(record.key()), null, headers);
  }

  private static void describe(
      Headers headers,
      ConsumerRecord<String, byte[]> record,
      InvalidMessageException error,
      int valueSize) {
    headers.add(Topics.DLQ_REASON_HEADER, bytes(error.reason().name()));
    headers.add(Topics.DLQ_ERROR_HEADER, bytes(bounded(describe(error))));
    headers.add(
        ORIGIN_HEADER, bytes(record.topic() + "/" + record.partition() + "@" + record.offset()));
    headers.add(ORIGINAL_SIZE_HEADER, bytes(Integer.toString(valueSize)));
  }

  /**
   * Whether a failed send of a dead letter means the broker could not be reached (retry the poll)
   * rather than that it refused this record for good (fall back to a smaller copy, then skip). The
   * whole cause chain is looked at: clients wrap the producer's exception once or twice.
   */
  public static boolean isRetriable(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof org.apache.kafka.common.errors.RetriableException
          || t instanceof org.apache.kafka.common.errors.TimeoutException
          || t instanceof java.util.concurrent.TimeoutException
          || t instanceof InterruptedException) {
        return true;
      }
    }
    return false;
  }

  /** The error as the header carries it: the field first, when there is one. */
  static String describe(InvalidMessageException e) {
    String message = e.getMessage() == null ? "" : e.getMessage();
    return e.field() == null || e.field().isEmpty() || message.startsWith(e.field())
        ? message
        : e.field() + ": " + message;
  }

  private static int size(Headers headers) {
    int size = 0;
    for (Header h : headers) {
      size += h.key().length() + (h.value() == null ? 0 : h.value().length);
    }
    return size;
  }

  private static String bounded(String text) {
    return text == null || text.length() <= MAX_TEXT_CHARS
        ? text
        : text.substring(0, MAX_TEXT_CHARS);
  }

  private static byte[] bytes(String s) {
    return (s == null ? "" : s).getBytes(StandardCharsets.UTF_8);
  }
}
