package io.workron.scheduler.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.workron.schemas.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.SmartLifecycle;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.stereotype.Component;

/**
 * What the broker holds for Workron, read with the admin client every {@code
 * workron.metrics.kafka-refresh} (15 s):
 *
 * <ul>
 *   <li>{@code workron_kafka_consumer_lag{group}}: records not yet committed by each of Workron's
 *       consumer groups (the scheduler's {@code <prefix>-scheduler-*}, each worker's {@code
 *       <prefix>-worker-<id>}), summed over the partitions it has committed on;
 *   <li>{@code workron_dlq_records{topic}}: records each dead-letter topic holds now.
 * </ul>
 *
 * A group or topic that is gone is dropped from the scrape. Every replica reports the same figures:
 * aggregate with {@code max}.
 */
@Component
public class KafkaGauges implements SmartLifecycle {

  private static final long TIMEOUT_SECONDS = 10;

  private final Admin admin;
  private final Topics topics;
  private final MeterRegistry meters;
  private final Map<String, Tracked> lag = new ConcurrentHashMap<>();
  private final Map<String, Tracked> dlq = new ConcurrentHashMap<>();
  private final GaugeLoop loop;

  /** A gauge's value and the gauge, so that it can be removed. */
  private record Tracked(AtomicLong value, Gauge gauge) {}

  KafkaGauges(
      KafkaAdmin kafkaAdmin,
      Topics topics,
      MeterRegistry meters,
      @Value("${workron.metrics.kafka-refresh:15s}") Duration refresh) {
    this.admin = Admin.create(kafkaAdmin.getConfigurationProperties());
    this.topics = topics;
    this.meters = meters;
    this.loop = new GaugeLoop("kafka-gauges", refresh, this::refresh);
  }

  /** Reads the figures once. */
  void refresh() throws Exception {
    Set<String> names = admin.listTopics().names().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    String topicPrefix = topics.prefix() + ".";
    Set<String> deadLetters = new HashSet<>();
    for (String name : names) {
      if (name.startsWith(topicPrefix) && name.endsWith(".dlq")) {
        deadLetters.add(name);
      }
    }

    Map<String, ListConsumerGroupOffsetsSpec> groups = new HashMap<>();
    for (GroupListing g :
        admin
            .listGroups(ListGroupsOptions.forConsumerGroups())
            .all()
            .get(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      if (g.groupId().startsWith(topics.prefix() + "-")) {
        groups.put(g.groupId(), new ListConsumerGroupOffsetsSpec());
      }
    }
    Map<String, Map<TopicPartition, OffsetAndMetadata>> committed =
        groups.isEmpty()
            ? Map.of()
            : admin.listConsumerGroupOffsets(groups).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);

    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    committed.values().stream()
        .flatMap(m -> m.keySet().stream())
        .filter(tp -> names.contains(tp.topic()))
        .forEach(tp -> latest.put(tp, OffsetSpec.latest()));
    Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
    if (!deadLetters.isEmpty()) {
      Map<String, TopicDescription> described =
          admin.describeTopics(deadLetters).allTopicNames().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      described.forEach(
          (topic, d) ->
              d.partitions()
                  .forEach(
                      p -> {
                        TopicPartition tp = new TopicPartition(topic, p.partition());
                        latest.put(tp, OffsetSpec.latest());
                        earliest.put(tp, OffsetSpec.earliest());
                      }));
    }
    Map<TopicPartition, Long> ends = offsets(latest);
    Map<TopicPartition, Long> starts = offsets(earliest);

    Map<String, Long> lags = new HashMap<>();
    committed.forEach(
        (group, byPartition) -> {
          long sum = 0;
          for (var e : byPartition.entrySet()) {
            Long end = ends.get(e.getKey());
            if (end != null && e.getValue() != null) {
              sum += Math.max(0, end - e.getValue().offset());
            }
          }
          lags.put(group, sum);
        });
    Map<String, Long> held = new HashMap<>();
    starts.forEach(
        (tp, start) ->
            held.merge(tp.topic(), Math.max(0, ends.getOrDefault(tp, start) - start), Long::sum));
    deadLetters.forEach(t -> held.putIfAbsent(t, 0L));

    update(
        lag,
        lags,
        "workron_kafka_consumer_lag",
        "group",
        "records a consumer group has not committed yet");
    update(dlq, held, "workron_dlq_records", "topic", "records a dead-letter topic holds");
  }

  private Map<TopicPartition, Long> offsets(Map<TopicPartition, OffsetSpec> wanted)
      throws Exception {
    if (wanted.isEmpty()) {
      return Map.of();
    }
    Map<TopicPartition, ListOffsetsResultInfo> found =
        admin.listOffsets(wanted).all().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    Map<TopicPartition, Long> offsets = new HashMap<>();
    found.forEach((tp, info) -> offsets.put(tp, info.offset()));
    return offsets;
  }

  private void update(
      Map<String, Tracked> tracked,
      Map<String, Long> now,
      String name,
      String tag,
      String description) {
    now.forEach(
        (key, value) ->
            tracked
                .computeIfAbsent(
                    key,
                    k -> {
                      AtomicLong v = new AtomicLong();
                      Gauge g =
                          Gauge.builder(name, v, AtomicLong::get)
                              .description(description)
                              .tag(tag, k)
                              .register(meters);
                      return new Tracked(v, g);
                    })
                .value()
                .set(value));
    tracked
        .entrySet()
        .removeIf(
            e -> {
              if (now.containsKey(e.getKey())) {
                return false;
              }
              meters.remove(e.getValue().gauge());
              return true;
            });
  }

  @Override
  public void start() {
    loop.start();
  }

  @Override
  public void stop() {
    loop.stop();
    admin.close(Duration.ofSeconds(1));
  }

  @Override
  public boolean isRunning() {
    return loop.isRunning();
  }
}
