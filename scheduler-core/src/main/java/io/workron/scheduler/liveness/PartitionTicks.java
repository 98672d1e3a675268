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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.kafka.core.ProducerFactory;
import org.springframework.stereotype.Component;

/**
 * Writes a {@code partition.tick.v1} to every partition of the heartbeats and results topics every
 * {@code tick-interval}, so their watermarks move in broker time even when no worker writes. At
 * start it makes sure both topics stamp records with the broker's clock ({@code LogAppendTime}): a
 * worker's clock running ahead must not make every other worker look silent.
 *
 * <p>Ticks go through a producer of their own, not idempotent and quick to give up: a tick is
 * disposable (the next one follows a tick-interval later), and an idempotent producer can wedge a
 * partition for its whole {@code delivery.timeout.ms} retrying one batch the broker keeps refusing
 * as out of sequence (seen on partitions created moments before). A lost tick delays a watermark by
 * one interval; a wedged one would stall it, and the reaper with it, for minutes.
 */
@Component
public class PartitionTicks implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(PartitionTicks.class);

  private final ProducerFactory<String, byte[]> producers;
  private final KafkaAdmin admin;
  private final Topics topics;
  private final WireCodec codec;
  private final Clock clock;
  private final SchedulerProperties properties;
  private ScheduledExecutorService timer;
  private KafkaProducer<String, byte[]> producer;
  private volatile boolean running;

  PartitionTicks(
      ProducerFactory<String, byte[]> producers,
      KafkaAdmin admin,
      Topics topics,
      WireCodec codec,
      Clock clock,
      SchedulerProperties properties) {
    this.producers = producers;
    this.admin = admin;
    this.topics = topics;
    this.codec = codec;
    this.clock = clock;
    this.properties = properties;
  }

  @Override
  public void start() {
    running = true;
    Map<String, Object> config = new HashMap<>(producers.getConfigurationProperties());
    long every = properties.tickInterval().toMillis();
    config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
    config.put(ProducerConfig.ACKS_CONFIG, "1");
    config.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.max(1000, every * 2));
    config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) Math.max(2000, every * 4));
    config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Math.max(1000, every * 2));
    config.put(ProducerConfig.CLIENT_ID_CONFIG, properties.replicaId() + "-ticks");
    config.remove(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
    producer = new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer());
    timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "partition-ticks");
              t.setDaemon(true);
              return t;
            });
    timer.execute(this::useBrokerTime);
    timer.scheduleWithFixedDelay(this::tick, every, every, TimeUnit.MILLISECONDS);
  }

  @Override
  public void stop() {
    running = false;
    timer.shutdownNow();
    if (producer != null) {
      producer.close(Duration.ofSeconds(1));
    }
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
        int partitions = producer.partitionsFor(topic).size();
        for (int p = 0; p < partitions; p++) {
          ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, p, null, tick);
          record.headers().add(Topics.TICK_HEADER, "1".getBytes(StandardCharsets.UTF_8));
          producer.send(record);
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
