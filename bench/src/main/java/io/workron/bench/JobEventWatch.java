package io.workron.bench;

import io.workron.schemas.Envelope;
import io.workron.schemas.JobEvent;
import io.workron.schemas.MessageType;
import io.workron.schemas.WireCodec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JavaType;

/**
 * Reads the job-events topic from the end offsets taken when it was opened (so before the phase
 * produces anything) and feeds the events of one phase's jobs into its {@link JobSet}. A fresh
 * consumer group each time; nothing is committed.
 */
final class JobEventWatch implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(JobEventWatch.class);
  private static final Duration POLL = Duration.ofMillis(200);
  private static final long PROGRESS_EVERY_NANOS = Duration.ofSeconds(10).toNanos();

  private final KafkaConsumer<String, byte[]> consumer;
  private final WireCodec codec;
  private final JavaType envelopeType;
  private long unreadable;

  private JobEventWatch(KafkaConsumer<String, byte[]> consumer, WireCodec codec) {
    this.consumer = consumer;
    this.codec = codec;
    this.envelopeType =
        codec
            .mapper()
            .getTypeFactory()
            .constructParametricType(Envelope.class, MessageType.JOB_EVENT.payloadClass());
  }

  /**
   * Assigns every partition of {@code topic} and positions at its current end.
   *
   * @param topicWait how long to wait for the topic to exist (scheduler-core creates it)
   */
  static JobEventWatch open(String bootstrap, String topic, WireCodec codec, Duration topicWait) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "workron-bench-" + UUID.randomUUID());
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "workron-bench-events");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
    p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p);
    try {
      List<TopicPartition> partitions = partitions(consumer, topic, topicWait);
      consumer.assign(partitions);
      Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, Duration.ofSeconds(30));
      ends.forEach(consumer::seek);
      return new JobEventWatch(consumer, codec);
    } catch (RuntimeException e) {
      consumer.close(Duration.ofSeconds(5));
      throw e;
    }
  }

  private static List<TopicPartition> partitions(
      KafkaConsumer<String, byte[]> consumer, String topic, Duration wait) {
    long deadline = System.nanoTime() + wait.toNanos();
    KafkaException last = null;
    while (System.nanoTime() < deadline) {
      try {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(5));
        if (infos != null && !infos.isEmpty()) {
          return infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
        }
      } catch (KafkaException e) {
        last = e;
      }
      LockSupport.parkNanos(Duration.ofMillis(500).toNanos()); // scheduler-core may be starting
    }
    throw new BenchFailure(
        "could not find topic "
            + topic
            + " within "
            + wait.toSeconds()
            + " s: is Kafka reachable, and is scheduler-core running against it with this"
            + " --topic-prefix?"
            + (last == null ? "" : " (last error: " + last + ")"),
        last);
  }

  /**
   * Consumes until every job of {@code jobs} is done or failed.
   *
   * @param phase name for progress lines and errors
   * @param deadlineNanos {@link System#nanoTime()} after which the phase fails
   * @param healthCheck called between polls; throws to abort (e.g. the producer failed)
   * @throws BenchFailure when the deadline passes first
   */
  void drain(String phase, JobSet jobs, long deadlineNanos, Runnable healthCheck) {
    long nextProgress = System.nanoTime() + PROGRESS_EVERY_NANOS;
    while (!jobs.allTerminal()) {
      healthCheck.run();
      long now = System.nanoTime();
      if (now - deadlineNanos > 0) {
        throw new BenchFailure(
            String.format(
                "%s: timed out: only %,d of %,d jobs finished (%,d done, %,d failed, %,d seen"
                    + " pending) before the phase timeout",
                phase,
                jobs.terminalCount(),
                jobs.size(),
                jobs.doneCount(),
                jobs.failedCount(),
                jobs.pendingCount()));
      }
      if (now - nextProgress > 0) {
        log.info(
            "{}: {}/{} finished ({} pending seen)",
            phase,
            jobs.terminalCount(),
            jobs.size(),
            jobs.pendingCount());
        nextProgress = now + PROGRESS_EVERY_NANOS;
      }
      ConsumerRecords<String, byte[]> records = consumer.poll(POLL);
      long observed = System.nanoTime();
      for (ConsumerRecord<String, byte[]> r : records) {
        int i = jobs.indexOf(r.key());
        if (i < 0) {
          continue; // not one of ours: another phase's or another client's job
        }
        JobEvent event = read(r.value());
        if (event != null) {
          jobs.apply(i, event, observed);
        }
      }
    }
  }

  private JobEvent read(byte[] value) {
    try {
      Envelope<JobEvent> e = codec.mapper().readValue(value, envelopeType);
      if (!MessageType.JOB_EVENT.name().equals(e.type())) {
        return null;
      }
      return e.payload();
    } catch (JacksonException | IllegalArgumentException | NullPointerException e) {
      if (unreadable++ == 0) {
        log.warn("unreadable job event skipped: {}", e.toString());
      }
      return null;
    }
  }

  @Override
  public void close() {
    consumer.close(Duration.ofSeconds(5));
  }
}
