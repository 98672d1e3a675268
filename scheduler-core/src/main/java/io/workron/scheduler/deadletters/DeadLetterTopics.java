package io.workron.scheduler.deadletters;

import io.workron.schemas.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.stereotype.Component;

/**
 * Which dead-letter topics the broker holds under Workron's prefix ({@code <topic>.dlq} beside each
 * consumed topic: submissions, results, heartbeats and every worker's dispatch topic), and the
 * range of offsets each partition holds now.
 */
@Component
class DeadLetterTopics implements DisposableBean {

  static final long TIMEOUT_SECONDS = 10;

  /** One partition of a dead-letter topic and the offsets it holds: {@code [start, end)}. */
  record Range(TopicPartition partition, long start, long end) {
    long records() {
      return Math.max(0, end - start);
    }
  }

  private final Admin admin;
  private final Topics topics;

  DeadLetterTopics(KafkaAdmin kafkaAdmin, Topics topics) {
    this.admin = Admin.create(kafkaAdmin.getConfigurationProperties());
    this.topics = topics;
  }

  /** Whether {@code name} is a dead-letter topic of this deployment (it may not exist yet). */
  boolean isDeadLetterTopic(String name) {
    return name.startsWith(topics.prefix() + ".")
        && name.endsWith(".dlq")
        && name.length() > topics.prefix().length() + 5
        && !origin(name).endsWith(".dlq");
  }

  /** The topic a dead-letter topic holds the refused records of. */
  static String origin(String deadLetterTopic) {
    return deadLetterTopic.substring(0, deadLetterTopic.length() - ".dlq".length());
  }

  /** Every dead-letter topic there is now, by name, with the ranges of its partitions. */
  Map<String, List<Range>> ranges() throws Exception {
    List<String> names =
        admin.listTopics().names().get(TIMEOUT_SECONDS, TimeUnit.SECONDS).stream()
            .filter(this::isDeadLetterTopic)
            .toList();
    return ranges(names);
  }

  /** The ranges of the partitions of {@code names}; a topic that does not exist is left out. */
  Map<String, List<Range>> ranges(List<String> names) throws Exception {
    Map<String, List<Range>> ranges = new TreeMap<>();
    if (names.isEmpty()) {
      return ranges;
    }
    List<String> existing =
        admin.listTopics().names().get(TIMEOUT_SECONDS, TimeUnit.SECONDS).stream()
            .filter(names::contains)
            .toList();
    if (existing.isEmpty()) {
      return ranges;
    }
    Map<String, TopicDescription> described =
        admin.describeTopics(existing).allTopicNames().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    described.forEach(
        (topic, d) ->
            d.partitions()
                .forEach(
                    p -> {
                      TopicPartition tp = new TopicPartition(topic, p.partition());
                      earliest.put(tp, OffsetSpec.earliest());
                      latest.put(tp, OffsetSpec.latest());
                    }));
    Map<TopicPartition, Long> starts = offsets(earliest);
    Map<TopicPartition, Long> ends = offsets(latest);
    starts.forEach(
        (tp, start) ->
            ranges
                .computeIfAbsent(tp.topic(), t -> new java.util.ArrayList<>())
                .add(new Range(tp, start, ends.getOrDefault(tp, start))));
    ranges
        .values()
        .forEach(
            list -> list.sort(java.util.Comparator.comparingInt(r -> r.partition().partition())));
    return ranges;
  }

  private Map<TopicPartition, Long> offsets(Map<TopicPartition, OffsetSpec> wanted)
      throws Exception {
    Map<TopicPartition, ListOffsetsResultInfo> found =
        admin.listOffsets(wanted).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    Map<TopicPartition, Long> offsets = new HashMap<>();
    found.forEach((tp, info) -> offsets.put(tp, info.offset()));
    return offsets;
  }

  @Override
  public void destroy() {
    admin.close(Duration.ofSeconds(1));
  }
}
