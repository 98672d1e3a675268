package io.workron.testsupport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;

/**
 * Plain Kafka clients for tests, playing "another service" on the real broker: produce raw bytes,
 * read what a topic received, create topics.
 */
public final class KafkaFixture implements AutoCloseable {

  private final String bootstrap;
  private final KafkaProducer<String, byte[]> producer;
  private final Admin admin;

  public KafkaFixture(String bootstrap) {
    this.bootstrap = bootstrap;
    this.producer =
        new KafkaProducer<>(
            Map.of("bootstrap.servers", bootstrap, "acks", "all", "linger.ms", 1),
            new StringSerializer(),
            new ByteArraySerializer());
    this.admin = Admin.create(Map.of("bootstrap.servers", bootstrap));
  }

  public void createTopic(String name, int partitions) {
    try {
      admin
          .createTopics(List.of(new NewTopic(name, partitions, (short) 1)))
          .all()
          .get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw new IllegalStateException(e);
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Commits {@code offset} on {@code topic}'s partition for consumer group {@code groupId}. */
  public void commit(String groupId, String topic, int partition, long offset) {
    try {
      admin
          .alterConsumerGroupOffsets(
              groupId,
              Map.of(
                  new org.apache.kafka.common.TopicPartition(topic, partition),
                  new org.apache.kafka.clients.consumer.OffsetAndMetadata(offset)))
          .all()
          .get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Produces and waits for the broker's ack; returns where the broker stored the record. */
  public org.apache.kafka.clients.producer.RecordMetadata send(
      String topic, String key, byte[] value, Map<String, String> headers) {
    ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, key, value);
    headers.forEach(
        (k, v) -> record.headers().add(k, v.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    try {
      return producer.send(record).get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("could not produce to " + topic, e);
    }
  }

  public org.apache.kafka.clients.producer.RecordMetadata send(
      String topic, String key, byte[] value) {
    return send(topic, key, value, Map.of());
  }

  /** Produces to one partition and waits for the broker's ack. */
  public org.apache.kafka.clients.producer.RecordMetadata send(
      String topic, int partition, String key, byte[] value) {
    try {
      return producer
          .send(new ProducerRecord<>(topic, partition, key, value))
          .get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("could not produce to " + topic, e);
    }
  }

  /** The offset the next record of {@code topic}'s {@code partition} will get. */
  public long endOffset(String topic, int partition) {
    try {
      var tp = new org.apache.kafka.common.TopicPartition(topic, partition);
      return admin
          .listOffsets(java.util.Map.of(tp, org.apache.kafka.clients.admin.OffsetSpec.latest()))
          .partitionResult(tp)
          .get(30, TimeUnit.SECONDS)
          .offset();
    } catch (Exception e) {
      throw new IllegalStateException("could not read the end of " + topic, e);
    }
  }

  /**
   * Produces {@code value} gzip-compressed, as a producer may that sends records larger than the
   * broker takes uncompressed (a 2 MiB value of repeated bytes is a few KiB on the wire). What a
   * consumer then receives is larger than it could ever produce itself.
   */
  public void sendCompressed(String topic, String key, byte[] value) {
    try (KafkaProducer<String, byte[]> compressing =
        new KafkaProducer<>(
            Map.of(
                "bootstrap.servers",
                bootstrap,
                "acks",
                "all",
                "compression.type",
                "gzip",
                "max.request.size",
                16 * 1024 * 1024,
                "buffer.memory",
                64 * 1024 * 1024),
            new StringSerializer(),
            new ByteArraySerializer())) {
      compressing.send(new ProducerRecord<>(topic, key, value)).get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("could not produce to " + topic, e);
    }
  }

  /** A JSON document of {@code bytes} bytes that no consumer accepts: too large. */
  public static byte[] oversizedDocument(int bytes) {
    String prefix = "{\"type\":\"job.submitted.v1\",\"pad\":\"";
    String suffix = "\"}";
    return (prefix + "x".repeat(bytes - prefix.length() - suffix.length()) + suffix)
        .getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  /**
   * Waits until consumer group {@code groupId} has committed everything {@code topic} holds now: a
   * barrier after which every message produced earlier has been processed.
   */
  public void awaitConsumed(String groupId, String topic, Duration timeout) {
    Awaitility.await()
        .atMost(timeout)
        .pollInterval(Duration.ofMillis(100))
        .until(() -> caughtUp(groupId, topic));
  }

  private boolean caughtUp(String groupId, String topic) throws Exception {
    var partitions =
        admin
            .describeTopics(List.of(topic))
            .allTopicNames()
            .get(10, TimeUnit.SECONDS)
            .get(topic)
            .partitions();
    Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest =
        new java.util.HashMap<>();
    for (var p : partitions) {
      latest.put(
          new org.apache.kafka.common.TopicPartition(topic, p.partition()),
          org.apache.kafka.clients.admin.OffsetSpec.latest());
    }
    var ends = admin.listOffsets(latest).all().get(10, TimeUnit.SECONDS);
    var committed =
        admin
            .listConsumerGroupOffsets(groupId)
            .partitionsToOffsetAndMetadata()
            .get(10, TimeUnit.SECONDS);
    for (var e : ends.entrySet()) {
      long end = e.getValue().offset();
      var done = committed.get(e.getKey());
      if (end > 0 && (done == null || done.offset() < end)) {
        return false;
      }
    }
    return true;
  }

  /** Starts reading {@code topic} from its beginning in a fresh consumer group. */
  public TopicReader read(String topic) {
    return new TopicReader(bootstrap, topic, r -> true);
  }

  /** Reads {@code topic} from its start, keeping only the records {@code keep} accepts. */
  public TopicReader read(String topic, Predicate<ConsumerRecord<String, byte[]>> keep) {
    return new TopicReader(bootstrap, topic, keep);
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(5));
    admin.close(Duration.ofSeconds(5));
  }

  /** Everything a topic has received, collected as the test waits for what it expects. */
  public static final class TopicReader implements AutoCloseable {
    private final KafkaConsumer<String, byte[]> consumer;
    private final List<ConsumerRecord<String, byte[]>> seen =
        Collections.synchronizedList(new ArrayList<>());
    private final Predicate<ConsumerRecord<String, byte[]>> keep;

    TopicReader(String bootstrap, String topic, Predicate<ConsumerRecord<String, byte[]>> keep) {
      this.keep = keep;
      Properties p = new Properties();
      p.put("bootstrap.servers", bootstrap);
      p.put("group.id", "test-reader-" + UUID.randomUUID());
      p.put("auto.offset.reset", "earliest");
      p.put("enable.auto.commit", "false");
      consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
      consumer.subscribe(List.of(topic));
    }

    /** Polls until {@code done} holds for what was received so far, at most {@code timeout}. */
    public List<ConsumerRecord<String, byte[]>> until(
        Predicate<List<ConsumerRecord<String, byte[]>>> done, Duration timeout) {
      Awaitility.await()
          .atMost(timeout)
          .pollInterval(Duration.ofMillis(10))
          .until(
              () -> {
                consumer.poll(Duration.ofMillis(200)).forEach(this::keep);
                return done.test(List.copyOf(seen));
              });
      return List.copyOf(seen);
    }

    /** Polls for {@code duration} more and returns everything received. */
    public List<ConsumerRecord<String, byte[]>> drain(Duration duration) {
      long end = System.nanoTime() + duration.toNanos();
      while (System.nanoTime() < end) {
        consumer.poll(Duration.ofMillis(100)).forEach(this::keep);
      }
      return List.copyOf(seen);
    }

    private void keep(ConsumerRecord<String, byte[]> record) {
      if (keep.test(record)) {
        seen.add(record);
      }
    }

    @Override
    public void close() {
      consumer.close(Duration.ofSeconds(5));
    }
  }
}
