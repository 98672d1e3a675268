package io.workron.worker.jobs;

import io.workron.schemas.Topics;
import io.workron.worker.WorkerIdentity;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.listener.ContainerProperties;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.listener.KafkaMessageListenerContainer;
import org.springframework.kafka.support.TopicPartitionOffset;
import org.springframework.stereotype.Component;
import org.springframework.util.backoff.FixedBackOff;

/**
 * Consumes this worker's dispatch topic. Started and stopped by the worker's lifecycle (after
 * registration, before draining), never on its own, so it is not a Spring-managed container.
 *
 * <p>The topic has one partition and exactly one reader, so the partition is assigned directly
 * instead of through group rebalancing: consumption starts at once and stops without a rebalance.
 * Offsets are committed after each poll's records are handled, under the group {@code
 * workron-worker-<id>}; a redelivery after a crash is harmless, because handling only queues the
 * attempt and an attempt this incarnation already accepted is ignored.
 */
@Component
public final class DispatchConsumer {

  /**
   * A record whose handling throws (only when the dead-letter topic cannot be written) is retried
   * this often, a second apart, before it is logged and skipped.
   */
  private static final long RETRIES = 30;

  private final KafkaMessageListenerContainer<String, byte[]> container;
  private final String topic;

  DispatchConsumer(
      ConsumerFactory<String, byte[]> consumers,
      Topics topics,
      WorkerIdentity identity,
      DispatchListener listener) {
    this.topic = topics.dispatch(identity.workerId());
    ContainerProperties properties = new ContainerProperties(new TopicPartitionOffset(topic, 0));
    properties.setGroupId("workron-worker-" + identity.workerId());
    properties.setClientId("workron-worker-" + identity.workerId());
    properties.setAckMode(ContainerProperties.AckMode.BATCH);
    properties.setStopImmediate(true);
    properties.setMessageListener(listener);
    Properties overrides = new Properties();
    overrides.setProperty(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    overrides.setProperty(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    properties.setKafkaConsumerProperties(overrides);
    this.container = new KafkaMessageListenerContainer<>(consumers, properties);
    container.setCommonErrorHandler(new DefaultErrorHandler(new FixedBackOff(1000L, RETRIES)));
    container.setBeanName("dispatch-" + identity.workerId());
  }

  public String topic() {
    return topic;
  }

  public void start() {
    container.start();
  }

  /** Returns once the consumer has stopped; no dispatch is accepted after this. */
  public void stop() {
    container.stop();
  }
}
