package io.workron.worker;

import io.workron.schemas.Topics;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.stereotype.Component;

/**
 * Creates the topics this worker needs before it announces itself: its own dispatch topic and that
 * topic's dead-letter topic, and the shared heartbeats and results topics if no other service
 * created them yet. Existing topics are left exactly as they are.
 */
@Component
class TopicSetup {

  private static final Logger log = LoggerFactory.getLogger(TopicSetup.class);
  static final int HEARTBEAT_PARTITIONS = 3;
  static final int RESULT_PARTITIONS = 12;

  /** Heartbeats are only useful while fresh; the scheduler reads the newest one per worker. */
  private static final String HEARTBEAT_RETENTION_MS = Long.toString(TimeUnit.HOURS.toMillis(1));

  private static final long TIMEOUT_SECONDS = 30;

  private final KafkaAdmin kafkaAdmin;
  private final Topics topics;
  private final WorkerProperties properties;

  TopicSetup(KafkaAdmin kafkaAdmin, Topics topics, WorkerProperties properties) {
    this.kafkaAdmin = kafkaAdmin;
    this.topics = topics;
    this.properties = properties;
  }

  /** Fails (and so fails the start) when the broker cannot be reached within 30 s. */
  void createMissingTopics(String dispatchTopic) {
    short replication = properties.replicationFactor();
    // the broker's clock stamps heartbeats, results and dispatches: liveness is judged in it
    Map<String, String> brokerTime =
        Map.of(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "LogAppendTime");
    List<NewTopic> wanted =
        List.of(
            new NewTopic(dispatchTopic, 1, replication).configs(brokerTime),
            new NewTopic(Topics.deadLetter(dispatchTopic), 1, replication),
            new NewTopic(topics.heartbeats(), HEARTBEAT_PARTITIONS, replication)
                .configs(
                    Map.of(
                        TopicConfig.RETENTION_MS_CONFIG,
                        HEARTBEAT_RETENTION_MS,
                        TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG,
                        "LogAppendTime")),
            new NewTopic(topics.results(), RESULT_PARTITIONS, replication).configs(brokerTime));
    try (Admin admin = Admin.create(kafkaAdmin.getConfigurationProperties())) {
      var created = admin.createTopics(wanted).values();
      for (var entry : created.entrySet()) {
        try {
          entry.getValue().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
          log.info("created topic {}", entry.getKey());
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw new IllegalStateException(
                "could not create topic " + entry.getKey() + ": " + e.getCause(), e.getCause());
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics", e);
    } catch (TimeoutException e) {
      throw new IllegalStateException(
          "Kafka did not answer within " + TIMEOUT_SECONDS + " s while creating topics", e);
    }
  }
}
