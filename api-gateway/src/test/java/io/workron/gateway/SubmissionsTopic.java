package io.workron.gateway;

import static org.awaitility.Awaitility.await;

import io.workron.schemas.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** The submissions topic of one test's prefix, read with a plain Kafka consumer. */
final class SubmissionsTopic implements AutoCloseable {

  static final int PARTITIONS = 12;

  private final KafkaConsumer<String, byte[]> consumer;
  private final List<TopicPartition> partitions;

  private SubmissionsTopic(KafkaConsumer<String, byte[]> consumer, List<TopicPartition> parts) {
    this.consumer = consumer;
    this.partitions = parts;
  }

  /** Creates the topic (the broker does not auto-create) and a consumer of all its partitions. */
  static SubmissionsTopic create(String bootstrapServers, String prefix)
      throws ExecutionException, InterruptedException {
    String topic = new Topics(prefix).submissions();
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
      admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all().get();
    }
    KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(
            Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers),
            new StringDeserializer(),
            new ByteArrayDeserializer());
    List<TopicPartition> partitions = new java.util.ArrayList<>();
    for (int p = 0; p < PARTITIONS; p++) {
      partitions.add(new TopicPartition(topic, p));
    }
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    return new SubmissionsTopic(consumer, partitions);
  }

  /** The record produced under {@code key}, waiting for it up to a ceiling. */
  ConsumerRecord<String, byte[]> awaitRecord(String key) {
    ConsumerRecord<String, byte[]>[] found = new ConsumerRecord[1];
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> {
              for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                if (key.equals(record.key())) {
                  found[0] = record;
                }
              }
              return found[0] != null;
            });
    return found[0];
  }

  /** The key of every record the topic holds now, read from the beginning. */
  List<String> allKeys() {
    Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
    consumer.seekToBeginning(partitions);
    List<String> keys = new java.util.ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> {
              consumer.poll(Duration.ofMillis(200)).forEach(r -> keys.add(r.key()));
              return partitions.stream().allMatch(p -> consumer.position(p) >= end.get(p));
            });
    return keys;
  }

  /** How many records the topic holds; unchanged across a request means it produced nothing. */
  long recordCount() {
    return consumer.endOffsets(partitions).values().stream().mapToLong(Long::longValue).sum();
  }

  static Optional<String> header(ConsumerRecord<String, byte[]> record, String name) {
    return Optional.ofNullable(record.headers().lastHeader(name))
        .map(h -> new String(h.value(), java.nio.charset.StandardCharsets.UTF_8));
  }

  @Override
  public void close() {
    consumer.close();
  }
}
