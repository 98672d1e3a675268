package io.workron.worker;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Records everything published to some topics, from the beginning, on a thread of its own. */
final class TopicRecorder implements AutoCloseable {

  private final KafkaConsumer<String, byte[]> consumer;
  private final List<ConsumerRecord<String, byte[]>> records = new CopyOnWriteArrayList<>();
  private final Thread thread;
  private volatile boolean closed;

  TopicRecorder(String bootstrapServers, List<String> topics) {
    consumer =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                bootstrapServers,
                ConsumerConfig.GROUP_ID_CONFIG,
                "test-recorder-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest",
                ConsumerConfig.METADATA_MAX_AGE_CONFIG,
                "500"),
            new StringDeserializer(),
            new ByteArrayDeserializer());
    consumer.subscribe(topics);
    thread = new Thread(this::poll, "test-recorder");
    thread.setDaemon(true);
    thread.start();
  }

  List<ConsumerRecord<String, byte[]>> records() {
    return List.copyOf(records);
  }

  List<ConsumerRecord<String, byte[]>> records(String topic) {
    return records.stream().filter(r -> r.topic().equals(topic)).toList();
  }

  private void poll() {
    try {
      while (!closed) {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
    } catch (WakeupException e) {
      // closing
    } finally {
      consumer.close(Duration.ofSeconds(2));
    }
  }

  @Override
  public void close() throws InterruptedException {
    closed = true;
    consumer.wakeup();
    thread.join(5_000);
  }
}
