package io.workron.scheduler.liveness;

import io.workron.scheduler.config.SchedulerProperties;
import io.workron.schemas.Ids;
import io.workron.schemas.MessageType;
import io.workron.schemas.PartitionTick;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

/**
 * Writes a {@code partition.tick.v1} to every partition of the heartbeats and results topics every
 * {@code tick-interval}, so their watermarks move in broker time even when no worker writes. At
 * start it makes sure both topics stamp records with the broker's clock ({@code LogAppendTime}): a
 * worker's clock running ahead must not make every other worker look silent.
 */
@Component
public class PartitionTicks implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(PartitionTicks.class);

  private final KafkaTemplate<String, byte[]> kafka;
  private final KafkaAdmin admin;
  private final Topics topics;
  private final WireCodec codec;
  private final Clock clock;
  private final SchedulerProperties properties;
  private ScheduledExecutorService timer;
  private volatile boolean running;

  PartitionTicks(
      KafkaTemplate<String, byte[]> kafka,
      KafkaAdmin admin,
      Topics topics,
      WireCodec codec,
      Clock clock,
      SchedulerProperties properties) {
    this.kafka = kafka;
    this.admin = admin;
    this.topics = topics;
    this.codec = codec;
    this.clock = clock;
    this.properties = properties;
  }

  @Override
  public void start() {
    running = true;
    timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "partition-ticks");
              t.setDaemon(true);
              return t;
            });
    timer.execute(this::useBrokerTime);
    long every = properties.tickInterval().toMillis();
    timer.scheduleWithFixedDelay(this::tick, every, every, TimeUnit.MILLISECONDS);
  }

  @Override
  public void stop() {
    running = false;
    timer.shutdownNow();
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  /** One tick to every partition of both topics; failures are retried by the next tick. */
  void tick() {
    byte[] tick =
        codec.encode(
            WireCodec.envelope(
                MessageType.PARTITION_TICK,
                Ids.newMessageId("tick", clock),
                clock.instant(),
                new PartitionTick(properties.replicaId())));
    for (String topic : List.of(topics.heartbeats(), topics.results())) {
      try {
        int partitions = kafka.partitionsFor(topic).size();
        for (int p = 0; p < partitions; p++) {
          ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, p, null, tick);
          record.headers().add(Topics.TICK_HEADER, "1".getBytes(StandardCharsets.UTF_8));
          kafka.send(record);
        }
      } catch (RuntimeException e) {
        log.debug("could not tick {}: {}", topic, e.toString());
      }
    }
  }

  private void useBrokerTime() {
    Admin client = Admin.create(admin.getConfigurationProperties());
    try {
      AlterConfigOp logAppendTime =
          new AlterConfigOp(
              new ConfigEntry(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "LogAppendTime"),
              AlterConfigOp.OpType.SET);
      Map<ConfigResource, java.util.Collection<AlterConfigOp>> changes =
          Map.of(
              new ConfigResource(ConfigResource.Type.TOPIC, topics.heartbeats()),
              List.of(logAppendTime),
              new ConfigResource(ConfigResource.Type.TOPIC, topics.results()),
              List.of(logAppendTime));
      client
          .incrementalAlterConfigs(
              changes, new org.apache.kafka.clients.admin.AlterConfigsOptions().timeoutMs(30_000))
          .all()
          .get(Duration.ofSeconds(30).toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      log.warn(
          "could not make {} and {} use LogAppendTime; liveness then reads the producers' clocks: {}",
          topics.heartbeats(),
          topics.results(),
          e.toString());
    } finally {
      client.close(Duration.ofSeconds(1));
    }
  }
}
