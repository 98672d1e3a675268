package io.workron.scheduler.deadletters;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.stereotype.Component;

/**
 * Reads given offset ranges of dead-letter topics with one consumer of its own: assigned, never in
 * a group, committing nothing, so browsing moves no consumer of Workron's. A Kafka consumer is for
 * one thread at a time; reads take turns (they are an operator's, not a hot path).
 */
@Component
class DeadLetterReader implements DisposableBean {

  /** How long one read may take before it answers with what it has. */
  static final Duration READ_LIMIT = Duration.ofSeconds(10);

  private final Map<String, Object> config;
  private KafkaConsumer<String, byte[]> consumer;

  DeadLetterReader(ConsumerFactory<?, ?> consumers) {
    Map<String, Object> c = new HashMap<>(consumers.getConfigurationProperties());
    c.remove(ConsumerConfig.GROUP_ID_CONFIG);
    c.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.CLIENT_ID_CONFIG, "workron-dead-letter-reader");
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 200);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    this.config = Map.copyOf(c);
  }

  /** A range to read: {@code [from, to)} of one partition. */
  record Wanted(TopicPartition partition, long from, long to) {}

  /**
   * The records of each range, in offset order. A range may come back short: offsets a topic skips
   * (transaction markers, deleted by retention meanwhile) have no record, and a read still short
   * after {@link #READ_LIMIT} answers with what it has.
   */
  synchronized Map<TopicPartition, List<ConsumerRecord<String, byte[]>>> read(List<Wanted> ranges) {
    Map<TopicPartition, List<ConsumerRecord<String, byte[]>>> found = new HashMap<>();
    Map<TopicPartition, Long> until = new HashMap<>();
    for (Wanted w : ranges) {
      if (w.from() < w.to()) {
        until.put(w.partition(), w.to());
        found.put(w.partition(), new ArrayList<>());
      }
    }
    if (until.isEmpty()) {
      return found;
    }
    KafkaConsumer<String, byte[]> c = consumer();
    try {
      c.assign(until.keySet());
      for (Wanted w : ranges) {
        if (until.containsKey(w.partition())) {
          c.seek(w.partition(), w.from());
        }
      }
      long deadline = System.nanoTime() + READ_LIMIT.toNanos();
      while (!until.isEmpty() && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
          TopicPartition tp = new TopicPartition(r.topic(), r.partition());
          Long end = until.get(tp);
          if (end != null && r.offset() < end) {
            found.get(tp).add(r);
          }
        }
        until
            .entrySet()
            .removeIf(
                e -> {
                  if (c.position(e.getKey()) >= e.getValue()) {
                    c.pause(List.of(e.getKey()));
                    return true;
                  }
                  return false;
                });
      }
      if (!until.isEmpty()) {
        // a page from a part of a range would skip the rest of it for good
        throw new IllegalStateException(
            "the broker did not deliver the dead letters asked for within "
                + READ_LIMIT.toSeconds()
                + " s");
      }
      return found;
    } catch (RuntimeException e) {
      // a consumer left in an unknown state is not reused
      close();
      throw e;
    } finally {
      if (consumer != null) {
        consumer.resume(consumer.paused());
        consumer.assign(List.of());
      }
    }
  }

  private KafkaConsumer<String, byte[]> consumer() {
    if (consumer == null) {
      consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
    }
    return consumer;
  }

  private void close() {
    if (consumer != null) {
      try {
        consumer.close(Duration.ofSeconds(1));
      } catch (RuntimeException ignored) {
        // closing what failed; the next read makes a new one
      }
      consumer = null;
    }
  }

  @Override
  public synchronized void destroy() {
    close();
  }
}
