package io.workron.scheduler.ingest;

import io.workron.schemas.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.stereotype.Component;

/**
 * At start, gives every submissions partition that has no ingest progress yet (a database from
 * before progress was kept) the offset its consumer group has committed, so "has everything
 * submitted before now been ingested?" can be answered for it too.
 */
@Component
class IngestProgressStart implements ApplicationRunner {

  private static final Logger log = LoggerFactory.getLogger(IngestProgressStart.class);

  private final KafkaAdmin kafkaAdmin;
  private final Topics topics;
  private final IngestProgress progress;

  IngestProgressStart(KafkaAdmin kafkaAdmin, Topics topics, IngestProgress progress) {
    this.kafkaAdmin = kafkaAdmin;
    this.topics = topics;
    this.progress = progress;
  }

  /** In the background: it must not hold up the start while the broker cannot be reached. */
  @Override
  public void run(ApplicationArguments args) {
    Thread t = new Thread(this::startMissing, "ingest-progress-start");
    t.setDaemon(true);
    t.start();
  }

  private void startMissing() {
    Admin admin = Admin.create(kafkaAdmin.getConfigurationProperties());
    try {
      Map<Integer, Long> committed = new HashMap<>();
      admin
          .listConsumerGroupOffsets(
              topics.prefix() + "-scheduler-submissions",
              new org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions()
                  .timeoutMs(10_000))
          .partitionsToOffsetAndMetadata()
          .get(Duration.ofSeconds(10).toMillis(), TimeUnit.MILLISECONDS)
          .forEach(
              (tp, offset) -> {
                if (offset != null && tp.topic().equals(topics.submissions())) {
                  committed.put(tp.partition(), offset.offset());
                }
              });
      progress.startMissing(committed);
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      log.warn("could not read the ingest group's committed offsets: {}", e.toString());
    } finally {
      admin.close(Duration.ofSeconds(1));
    }
  }
}
