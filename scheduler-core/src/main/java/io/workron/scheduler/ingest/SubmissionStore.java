package io.workron.scheduler.ingest;

import static io.workron.scheduler.db.Tables.JOBS;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.tracing.Span;
import io.workron.kafka.JobTraces;
import io.workron.scheduler.cancel.Cancellations;
import io.workron.scheduler.consume.RecordRefused;
import io.workron.scheduler.core.JobStatus;
import io.workron.scheduler.dag.DependencyGraph;
import io.workron.scheduler.lifecycle.JobsSubmitted;
import io.workron.scheduler.outbox.JobEvents;
import io.workron.scheduler.outbox.Outbox;
import io.workron.scheduler.outbox.OutboxMessage;
import io.workron.schemas.InvalidMessageException;
import io.workron.schemas.JobSubmission;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jooq.DSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Stores a poll of the submissions topic in one transaction: its submissions, ignoring ids that are
 * already stored, then its cancels.
 */
@Component
public class SubmissionStore {

  /** One valid record of the submissions topic. */
  sealed interface Intake permits Accepted, Cancel {}

  /** A valid submission with what travelled beside it. */
  /**
   * A submission to store; {@code traceparent} is its ingest span's, kept with the job so its
   * dispatch and events continue the trace.
   */
  record Accepted(JobSubmission job, String requestId, Instant messageTime, String traceparent)
      implements Intake {}

  /** A {@code job.cancel.v1}: cancel the job, now or when it arrives. */
  record Cancel(String jobId, String reason) implements Intake {}

  private static final Logger log = LoggerFactory.getLogger(SubmissionStore.class);

  private final DSLContext db;
  private final TransactionTemplate tx;
  private final Clock clock;
  private final DependencyGraph graph;
  private final JobEvents events;
  private final Outbox outbox;
  private final ApplicationEventPublisher publisher;
  private final IngestProgress progress;
  private final IngestWaits waits;
  private final Cancellations cancellations;
  private final io.workron.scheduler.config.SchedulerProperties properties;
  private final Counter submitted;
  private final Counter duplicates;

  private final JobTraces traces;

  SubmissionStore(
      DSLContext db,
      TransactionTemplate tx,
      Clock clock,
      DependencyGraph graph,
      JobEvents events,
      Outbox outbox,
      ApplicationEventPublisher publisher,
      IngestProgress progress,
      IngestWaits waits,
      Cancellations cancellations,
      io.workron.scheduler.config.SchedulerProperties properties,
      MeterRegistry meters,
      JobTraces traces) {
    this.traces = traces;
    this.db = db;
    this.tx = tx;
    this.clock = clock;
    this.graph = graph;
    this.events = events;
    this.outbox = outbox;
    this.publisher = publisher;
    this.progress = progress;
    this.waits = waits;
    this.cancellations = cancellations;
    this.properties = properties;
    this.submitted = meters.counter("workron_jobs_submitted_total");
    this.duplicates = meters.counter("workron_submissions_duplicate_total");
  }

  /**
   * Stores the submissions of {@code batch} in one transaction, ignoring ids that are already
   * stored, and applies its cancels after them (a cancel of a job not stored yet is kept for it).
   */
  void store(List<Intake> batch) {
    if (batch.isEmpty()) {
      return;
    }
    Map<String, Accepted> byId = new LinkedHashMap<>();
    List<Cancellations.Request> cancels = new ArrayList<>();
    int submissions = 0;
    for (Intake item : batch) {
      if (item instanceof Accepted a) {
        submissions++;
        byId.putIfAbsent(a.job().id(), a);
      } else if (item instanceof Cancel c) {
        cancels.add(new Cancellations.Request(c.jobId(), c.reason()));
      }
    }
    int inserted =
        tx.execute(
            status -> {
              if (!cancels.isEmpty()) {
                // before any job is stored: see Cancellations.KEEP_LOCK_ID
                cancellations.lockForKeeping();
              }
              int n = byId.isEmpty() ? 0 : insert(byId);
              if (!cancels.isEmpty()) {
                cancellations.cancel(cancels, true, OffsetDateTime.now(clock));
              }
              return n;
            });
    submitted.increment(inserted);
    duplicates.increment(submissions - inserted);
  }

  /**
   * Stores one job a schedule fired, in the caller's transaction, as if it had been submitted at
   * {@code fireTime}; returns 0 when a job with its id is already stored.
   */
  public int storeFired(JobSubmission job, Instant fireTime) {
    Map<String, Accepted> one = new LinkedHashMap<>();
    // a fired job starts a trace of its own
    Span span = traces.start("workron.schedule.fire", null, (String) null);
    span.tag("workron.job_id", job.id());
    one.put(job.id(), new Accepted(job.withDefaults(), null, fireTime, traces.traceparent(span)));
    int inserted;
    try {
      inserted = tx.execute(status -> insert(one));
    } finally {
      span.end();
    }
    submitted.increment(inserted);
    return inserted;
  }

  /**
   * Records {@code nextOffsets} (partition to the offset after the last record handled) as ingest
   * progress, once every record before them is stored or dead-lettered, and wakes whoever waits.
   */
  void recordProgress(Map<Integer, Long> nextOffsets) {
    if (nextOffsets.isEmpty()) {
      return;
    }
    tx.executeWithoutResult(status -> progress.advance(nextOffsets));
    waits.wake();
  }

  /**
   * A new job closes a cycle only if some stored job (or one of this batch) already waits for it;
   * for those few, the edges upstream of its dependencies are walked. The first one found fails the
   * transaction, and the poll is then stored one submission at a time, so the one that closes the
   * cycle (the later one) is dead-lettered and the earlier ones are kept.
   */
  private void refuseCycles(Map<String, Accepted> byId, List<String> blocked) {
    for (String id : graph.awaited(blocked)) {
      List<String> cycle = graph.cycleThrough(id, byId.get(id).job().dependsOn());
      if (!cycle.isEmpty()) {
        throw new RecordRefused(
            InvalidMessageException.Reason.DEPENDENCY_CYCLE,
            "/payload/depends_on",
            "depending on these jobs would form a cycle: " + String.join(" -> ", cycle));
      }
    }
  }

  /** A job waits for its dependencies, a gang task for its gang's admission; others are pending. */
  private static JobStatus statusOf(JobSubmission j) {
    return j.isGang() || !j.dependsOn().isEmpty() ? JobStatus.BLOCKED : JobStatus.PENDING;
  }

  /** When a job may start: not before now, nor before what its submission asked. */
  private static OffsetDateTime startAfter(JobSubmission j, Instant sent, OffsetDateTime now) {
    Instant asked = j.startAfter(sent);
    return asked == null || !asked.isAfter(now.toInstant())
        ? now
        : asked.atOffset(java.time.ZoneOffset.UTC);
  }

  /**
   * {@code byId} without the ids of jobs deleted by retention: ids are never reused, so a
   * redelivered submission (or a repeated Idempotency-Key) of a pruned job is a duplicate.
   */
  private Map<String, Accepted> withoutPrunedIds(Map<String, Accepted> byId) {
    List<String> pruned =
        db.resultQuery(
                "select id from pruned_jobs where id = any(?::varchar[])",
                (Object) byId.keySet().toArray(String[]::new))
            .fetch(r -> r.get(0, String.class));
    if (pruned.isEmpty()) {
      return byId;
    }
    log.info("ignored {} submissions of jobs deleted by retention: {}", pruned.size(), pruned);
    Map<String, Accepted> kept = new LinkedHashMap<>(byId);
    pruned.forEach(kept::remove);
    return kept;
  }

  /**
   * {@code byId} with every gang submission replaced by its tasks ({@code <gang id>-<index>}, the
   * gang's command, resources and priority each); the gangs themselves go to {@code gangs}.
   */
  private static Map<String, Accepted> expandGangs(
      Map<String, Accepted> byId, List<Accepted> gangs) {
    if (byId.values().stream().noneMatch(a -> a.job().isGang())) {
      return byId;
    }
    Map<String, Accepted> expanded = new LinkedHashMap<>();
    for (Accepted a : byId.values()) {
      JobSubmission j = a.job();
      if (!j.isGang()) {
        expanded.putIfAbsent(j.id(), a);
        continue;
      }
      gangs.add(a);
      for (String taskId : j.gangTaskIds()) {
        JobSubmission task =
            new JobSubmission(
                taskId,
                j.command(),
                List.of(),
                j.resources(),
                j.priority(),
                j.queueName(),
                j.maxRetries(),
                // the gang's key names the gang (its id derives from it), not one task
                null,
                j.timeoutSeconds(),
                null,
                j.runAt(),
                j.delaySeconds(),
                j.gangSize(),
                j.preemptible());
        expanded.putIfAbsent(
            taskId, new Accepted(task, a.requestId(), a.messageTime(), a.traceparent()));
      }
    }
    return expanded;
  }

  /** Stores the gang rows of gang submissions (a redelivered one changes nothing). */
  private void insertGangs(List<Accepted> gangs, OffsetDateTime now) {
    for (Accepted a : gangs) {
      JobSubmission g = a.job();
      OffsetDateTime runAt = startAfter(g, a.messageTime(), now);
      db.execute(
          "insert into gangs (id, size, priority, vram_mb, memory_mb, preemptible, created_at, "
              + "run_at, waiting_since) values (?, ?, ?, ?, ?, ?, ?::timestamptz, ?::timestamptz, "
              + "?::timestamptz) on conflict (id) do nothing",
          g.id(),
          g.gangSize(),
          g.priority(),
          g.resources().vramMb(),
          g.resources().memoryMb(),
          Boolean.TRUE.equals(g.preemptible()),
          now,
          runAt,
          runAt);
    }
  }

  private int insert(Map<String, Accepted> submitted) {
    OffsetDateTime now = OffsetDateTime.now(clock);
    List<Accepted> gangs = new ArrayList<>();
    Map<String, Accepted> byId = expandGangs(submitted, gangs);
    // a cancel kept for one of these ids commits before this insert or waits for it, and so does
    // a retention batch deleting one of them
    cancellations.lockAgainstKeeping();
    byId = withoutPrunedIds(byId);
    if (byId.isEmpty()) {
      return 0;
    }
    var insert =
        db.insertInto(
            JOBS,
            JOBS.ID,
            JOBS.COMMAND,
            JOBS.STATUS,
            JOBS.PRIORITY,
            JOBS.QUEUE_NAME,
            JOBS.MAX_RETRIES,
            JOBS.VRAM_MB,
            JOBS.MEMORY_MB,
            JOBS.IDEMPOTENCY_KEY,
            JOBS.CREATED_AT,
            JOBS.RUN_AT,
            JOBS.TIMEOUT_SECONDS,
            JOBS.CONCURRENCY_KEY,
            JOBS.GANG_ID,
            JOBS.GANG_INDEX,
            JOBS.PREEMPTIBLE,
            JOBS.WAIT_REASON,
            JOBS.TRACEPARENT);
    for (Accepted a : byId.values()) {
      JobSubmission j = a.job();
      JobStatus status = statusOf(j);
      String gangId = j.isGang() ? j.id().substring(0, j.id().lastIndexOf('-')) : null;
      insert =
          insert.values(
              j.id(),
              j.command(),
              status.wire(),
              j.priority(),
              j.queueName(),
              j.maxRetries(),
              j.resources().vramMb(),
              j.resources().memoryMb(),
              j.idempotencyKey(),
              now,
              startAfter(j, a.messageTime(), now),
              j.timeoutSeconds() != null
                  ? j.timeoutSeconds()
                  : properties.defaultTimeoutSeconds(j.queueName()),
              j.concurrencyKey(),
              gangId,
              gangId == null ? null : Integer.valueOf(j.id().substring(gangId.length() + 1)),
              Boolean.TRUE.equals(j.preemptible()),
              gangId == null ? null : "waiting for gang admission",
              a.traceparent());
    }
    List<String> stored =
        insert.onConflictDoNothing().returningResult(JOBS.ID).fetch(r -> r.value1());
    if (stored.isEmpty()) {
      return 0;
    }
    insertGangs(gangs, now);
    Set<String> storedSet = new HashSet<>(stored);
    List<String> edgeFrom = new ArrayList<>();
    List<String> edgeTo = new ArrayList<>();
    List<String> blocked = new ArrayList<>();
    List<OutboxMessage> messages = new ArrayList<>(stored.size());
    for (Accepted a : byId.values()) {
      JobSubmission j = a.job();
      if (!storedSet.contains(j.id())) {
        continue;
      }
      JobStatus status = statusOf(j);
      if (status == JobStatus.BLOCKED && !j.isGang()) {
        blocked.add(j.id());
        for (String dep : j.dependsOn()) {
          edgeFrom.add(j.id());
          edgeTo.add(dep);
        }
      }
      messages.add(
          events.of(
              new io.workron.schemas.JobEvent(
                  j.id(),
                  status.wire(),
                  0,
                  null,
                  null,
                  null,
                  j.queueName(),
                  now.toInstant(),
                  null,
                  null),
              a.requestId()));
    }
    // the new jobs' events first: what the graph does to them below follows them on their key
    outbox.addAll(messages);
    publisher.publishEvent(new JobsSubmitted(stored.size()));
    if (!edgeFrom.isEmpty()) {
      // one writer of new edges at a time, so two submissions that close a cycle between them
      // (each in its own transaction) cannot both pass the check below
      graph.lockEdgeWriters();
    }
    graph.lockUpstreams(edgeTo);
    graph.addEdges(edgeFrom, edgeTo);
    refuseCycles(byId, blocked);
    if (!blocked.isEmpty()) {
      // an upstream job may already have finished, well or badly, before this one arrived
      graph.releaseReady(blocked);
      graph.cancelDownstreamOf(graph.withFailedUpstream(blocked));
    }
    // a cancel may have overtaken the submission (keyed by another id, or on another partition)
    List<String> keptFor = new ArrayList<>(stored);
    gangs.forEach(g -> keptFor.add(g.job().id()));
    cancellations.applyKept(keptFor, now);
    log.debug("stored {} submissions ({} blocked on dependencies)", stored.size(), blocked.size());
    return stored.size();
  }
}
