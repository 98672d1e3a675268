package io.workron.bench;

import io.workron.schemas.Ids;
import io.workron.schemas.JobSubmission;
import io.workron.schemas.MessageType;
import io.workron.schemas.WireCodec;
import java.time.Clock;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Produces {@code job.submitted.v1} envelopes for no-op jobs ({@code command: "true"}) the way any
 * service may: key = job id, {@code acks=all}, idempotent. Send failures are kept, not thrown, so
 * the event consumer can notice them and abort the phase. Thread-safe, like the producer.
 */
final class Submitter implements AutoCloseable {

  static final String COMMAND = "true";

  private final KafkaProducer<String, byte[]> producer;
  private final WireCodec codec;
  private final String topic;
  private final Clock clock;
  private final AtomicReference<Exception> failure = new AtomicReference<>();
  private final AtomicLong acked = new AtomicLong();

  private Submitter(
      KafkaProducer<String, byte[]> producer, WireCodec codec, String topic, Clock clock) {
    this.producer = producer;
    this.codec = codec;
    this.topic = topic;
    this.clock = clock;
  }

  /** Batching for bulk throughput: records wait up to 10 ms to fill 256 KiB batches. */
  static Submitter bulk(String bootstrap, String topic, WireCodec codec, Clock clock) {
    return new Submitter(producer(bootstrap, 10, 262_144), codec, topic, clock);
  }

  /** No lingering: each record leaves as soon as it is sent, for latency measurements. */
  static Submitter immediate(String bootstrap, String topic, WireCodec codec, Clock clock) {
    return new Submitter(producer(bootstrap, 0, 16_384), codec, topic, clock);
  }

  private static KafkaProducer<String, byte[]> producer(
      String bootstrap, int lingerMs, int batchSize) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "workron-bench");
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, Integer.toString(lingerMs));
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(batchSize));
    p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Long.toString(128L * 1024 * 1024));
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "60000");
    p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    return new KafkaProducer<>(p);
  }

  /** The document for one no-op job, exactly as another service would produce it. */
  byte[] document(String jobId) {
    JobSubmission job = new JobSubmission(jobId, COMMAND, null, null, null, null, null, null);
    return codec.encode(
        WireCodec.envelope(
            MessageType.JOB_SUBMITTED, Ids.newMessageId("bench", clock), clock.instant(), job));
  }

  /** Hands one submission to the producer (asynchronous; may block when the buffer is full). */
  void send(String jobId) {
    producer.send(
        new ProducerRecord<>(topic, jobId, document(jobId)),
        (metadata, e) -> {
          if (e == null) {
            acked.incrementAndGet();
          } else {
            failure.compareAndSet(null, e);
          }
        });
  }

  /** Fetches the topic's metadata and connects, so the first send is not a cold start. */
  void warmUp() {
    producer.partitionsFor(topic);
  }

  /** Blocks until every record sent so far is acknowledged or failed. */
  void flush() {
    producer.flush();
  }

  long acked() {
    return acked.get();
  }

  /** Throws when any send failed. */
  void checkHealthy() {
    Exception e = failure.get();
    if (e != null) {
      throw new BenchFailure("Kafka refused a submission: " + e, e);
    }
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(10));
  }
}
