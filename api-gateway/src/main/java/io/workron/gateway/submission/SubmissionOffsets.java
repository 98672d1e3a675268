package io.workron.gateway.submission;

import io.workron.gateway.http.UnavailableException;
import io.workron.schemas.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.springframework.beans.factory.DisposableBean;

/**
 * The end offsets of the submissions topic: "everything submitted until now", in the terms
 * scheduler-core's ingest progress is kept in. Asked only when a dependency is not stored yet.
 */
public class SubmissionOffsets implements DisposableBean {

  private final Admin admin;
  private final String topic;
  private final Duration timeout;

  SubmissionOffsets(Map<String, Object> adminConfig, Topics topics, Duration timeout) {
    this.admin = Admin.create(adminConfig);
    this.topic = topics.submissions();
    this.timeout = timeout;
  }

  /** Partition to end offset; 503 when the broker does not tell within the produce timeout. */
  public Map<Integer, Long> endOffsets() {
    try {
      TopicDescription description =
          admin
              .describeTopics(java.util.List.of(topic))
              .topicNameValues()
              .get(topic)
              .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      description
          .partitions()
          .forEach(p -> latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
      Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends =
          admin
              .listOffsets(latest, new ListOffsetsOptions())
              .all()
              .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      Map<Integer, Long> result = new HashMap<>();
      ends.forEach((tp, info) -> result.put(tp.partition(), info.offset()));
      return result;
    } catch (ExecutionException | TimeoutException e) {
      throw new UnavailableException(
          "kafka", "Kafka did not tell how far the submissions topic goes: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UnavailableException("kafka", "interrupted while asking Kafka", e);
    }
  }

  @Override
  public void destroy() {
    admin.close(Duration.ofSeconds(1));
  }
}
