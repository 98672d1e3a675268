package io.workron.scheduler.workers;

import io.workron.scheduler.config.SchedulerProperties;
import io.workron.schemas.Topics;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.jooq.DSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Forgets workers that have been offline for longer than {@code worker-retention}: their dispatch
 * topics (and dead-letter topics) are deleted, then their rows and any message still waiting for
 * them in the outbox. Jobs keep the worker id in their history. Run by the reaper's leader, outside
 * any transaction while it talks to Kafka.
 */
@Component
public class WorkerRetention implements DisposableBean {

  private static final Logger log = LoggerFactory.getLogger(WorkerRetention.class);
  private static final int BATCH = 20;
  private static final Duration EVERY = Duration.ofMinutes(1);
  private volatile java.time.Instant lastRun;

  private final DSLContext db;
  private final TransactionTemplate tx;
  private final Clock clock;
  private final Topics topics;
  private final SchedulerProperties properties;
  private final Admin admin;

  WorkerRetention(
      DSLContext db,
      TransactionTemplate tx,
      Clock clock,
      Topics topics,
      SchedulerProperties properties,
      KafkaAdmin kafkaAdmin) {
    this.db = db;
    this.tx = tx;
    this.clock = clock;
    this.topics = topics;
    this.properties = properties;
    this.admin = Admin.create(kafkaAdmin.getConfigurationProperties());
  }

  /**
   * Removes up to a batch of long-absent workers; returns their ids. Does nothing if it ran less
   * than a minute (or half the retention) ago: absence is counted in hours, and topic deletion must
   * not slow the reaper.
   */
  public List<String> removeAbsent() {
    java.time.Instant now = clock.instant();
    Duration every =
        properties.workerRetention().dividedBy(2).compareTo(EVERY) < 0
            ? properties.workerRetention().dividedBy(2)
            : EVERY;
    if (lastRun != null && now.isBefore(lastRun.plus(every))) {
      return List.of();
    }
    lastRun = now;
    OffsetDateTime cutoff = OffsetDateTime.now(clock).minus(properties.workerRetention());
    List<String> removed =
        tx.execute(
            status -> {
              List<String> ids =
                  db.resultQuery(
                          "delete from workers where id in (select id from workers "
                              + "  where status = 'offline' and last_heartbeat_at < ?::timestamptz "
                              + "  order by id limit ? for update skip locked) returning id",
                          cutoff,
                          BATCH)
                      .fetch(r -> r.get(0, String.class));
              if (!ids.isEmpty()) {
                db.execute(
                    "delete from outbox where topic = any(?::varchar[])",
                    (Object) ids.stream().map(topics::dispatch).toArray(String[]::new));
                db.execute(
                    "delete from retired_incarnations where worker_id = any(?::varchar[])",
                    (Object) ids.toArray(String[]::new));
              }
              db.execute(
                  "delete from retired_incarnations where retired_at < ?::timestamptz", cutoff);
              return ids;
            });
    if (removed == null || removed.isEmpty()) {
      return List.of();
    }
    List<String> names = new ArrayList<>();
    for (String id : removed) {
      names.add(topics.dispatch(id));
      names.add(Topics.deadLetter(topics.dispatch(id)));
    }
    try {
      admin.deleteTopics(names).topicNameValues().forEach((name, f) -> await(name, f));
    } catch (RuntimeException e) {
      log.warn("could not delete the topics of removed workers {}: {}", removed, e.toString());
    }
    // a worker that came back meanwhile registered anew: give it its topics back
    List<String> back =
        db.resultQuery(
                "select id from workers where id = any(?::varchar[])",
                (Object) removed.toArray(String[]::new))
            .fetch(r -> r.get(0, String.class));
    for (String id : back) {
      recreate(topics.dispatch(id));
    }
    log.info(
        "removed {} workers absent for more than {}, with their dispatch topics: {}",
        removed.size(),
        properties.workerRetention(),
        removed);
    return removed;
  }

  private void await(String name, org.apache.kafka.common.KafkaFuture<Void> deletion) {
    try {
      deletion.get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
        log.warn("could not delete topic {}: {}", name, e.getCause().toString());
      }
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      log.warn("could not delete topic {}: {}", name, e.toString());
    }
  }

  private void recreate(String dispatchTopic) {
    try {
      admin
          .createTopics(
              List.of(
                  new org.apache.kafka.clients.admin.NewTopic(
                          dispatchTopic, 1, properties.replicationFactor())
                      .configs(java.util.Map.of("message.timestamp.type", "LogAppendTime")),
                  new org.apache.kafka.clients.admin.NewTopic(
                      Topics.deadLetter(dispatchTopic), 1, properties.replicationFactor())))
          .all()
          .get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      log.warn(
          "could not recreate topic {} for a worker that came back: {}",
          dispatchTopic,
          e.toString());
    }
  }

  @Override
  public void destroy() {
    admin.close(Duration.ofSeconds(1));
  }
}
