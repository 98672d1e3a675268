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
  private static final int BATCH = 100;

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

  /** Removes up to a batch of long-absent workers; returns their ids. */
  public List<String> removeAbsent() {
    OffsetDateTime cutoff = OffsetDateTime.now(clock).minus(properties.workerRetention());
    List<String> absent =
        db.resultQuery(
                "select id from workers where status = 'offline' and last_heartbeat_at < ?::timestamptz "
                    + "order by id limit ?",
                cutoff,
                BATCH)
            .fetch(r -> r.get(0, String.class));
    List<String> removed = new ArrayList<>();
    for (String id : absent) {
      String dispatch = topics.dispatch(id);
      if (deleteTopics(dispatch, Topics.deadLetter(dispatch))) {
        removed.add(id);
      }
    }
    if (removed.isEmpty()) {
      return removed;
    }
    List<String> dispatchTopics = removed.stream().map(topics::dispatch).toList();
    tx.executeWithoutResult(
        status -> {
          db.execute(
              "delete from outbox where topic = any(?::varchar[])",
              (Object) dispatchTopics.toArray(String[]::new));
          // still offline and still absent: a worker that came back meanwhile keeps its row
          db.execute(
              "delete from workers where id = any(?::varchar[]) and status = 'offline' "
                  + "and last_heartbeat_at < ?::timestamptz",
              removed.toArray(String[]::new),
              cutoff);
        });
    log.info(
        "removed {} workers absent for more than {}, with their dispatch topics: {}",
        removed.size(),
        properties.workerRetention(),
        removed);
    return removed;
  }

  private boolean deleteTopics(String... names) {
    for (String name : names) {
      try {
        admin
            .deleteTopics(List.of(name))
            .all()
            .get(Duration.ofSeconds(30).toMillis(), TimeUnit.MILLISECONDS);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
          log.warn(
              "could not delete topic {}; trying again later: {}", name, e.getCause().toString());
          return false;
        }
      } catch (Exception e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        log.warn("could not delete topic {}; trying again later: {}", name, e.toString());
        return false;
      }
    }
    return true;
  }

  @Override
  public void destroy() {
    admin.close(Duration.ofSeconds(1));
  }
}
