package io.workron.scheduler.results;

import io.micrometer.core.instrument.MeterRegistry;
import io.workron.scheduler.config.SchedulerProperties;
import io.workron.scheduler.core.AttemptVerdict;
import io.workron.scheduler.core.JobStatus;
import io.workron.scheduler.core.RetryPolicy;
import io.workron.scheduler.core.Transition;
import io.workron.scheduler.dag.DependencyGraph;
import io.workron.scheduler.lifecycle.JobTransitions;
import io.workron.schemas.JobOutput;
import io.workron.schemas.JobResult;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;
import org.jooq.DSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Applies a batch of attempt results in one transaction. A result counts only if its {@code
 * (job_id, attempt)} is the job's current attempt, running or taken back but not yet dispatched
 * again; anything else (an old attempt, a duplicate, a job finished or dispatched again meanwhile)
 * is a no-op, counted and logged.
 */
@Component
class ResultStore {

  private static final Logger log = LoggerFactory.getLogger(ResultStore.class);

  /**
   * The job's row as locked: {@code notCounted} are its attempts that do not count against {@code
   * max_retries} (free ones, and those before a retry by hand); {@code cancelReason} is set once a
   * cancel asked it to stop.
   */
  private record Current(
      int attempt,
      int notCounted,
      int maxRetries,
      String cancelReason,
      JobStatus status,
      int epoch) {}

  private final DSLContext db;
  private final TransactionTemplate tx;
  private final Clock clock;
  private final RandomGenerator random;
  private final RetryPolicy retryPolicy;
  private final DependencyGraph graph;
  private final JobTransitions transitions;
  private final MeterRegistry meters;
  private final io.workron.scheduler.gangs.GangDrains drains;
  private final int checkpointMaxBytes;

  ResultStore(
      DSLContext db,
      TransactionTemplate tx,
      Clock clock,
      RandomGenerator random,
      SchedulerProperties properties,
      DependencyGraph graph,
      JobTransitions transitions,
      MeterRegistry meters,
      io.workron.scheduler.gangs.GangDrains drains,
      io.workron.scheduler.gangs.GangProperties gangProperties) {
    this.drains = drains;
    this.checkpointMaxBytes = gangProperties.checkpointMaxBytes();
    this.db = db;
    this.tx = tx;
    this.clock = clock;
    this.random = random;
    this.retryPolicy = new RetryPolicy(properties.retryBackoffBase(), properties.retryBackoffMax());
    this.graph = graph;
    this.transitions = transitions;
    this.meters = meters;
  }

  void apply(List<JobResult> results) {
    applyAll(new ArrayList<>(results));
  }

  /**
   * Applies a poll of the results topic in one transaction: its results, then the recent outputs of
   * running attempts (so an output read after its attempt's result is ignored).
   */
  void applyAll(List<Object> poll) {
    List<JobResult> results = new ArrayList<>();
    Map<String, JobOutput> outputs = new LinkedHashMap<>();
    Map<String, io.workron.schemas.JobCheckpoint> checkpoints = new LinkedHashMap<>();
    for (Object o : poll) {
      if (o instanceof JobResult r) {
        results.add(r);
      } else if (o instanceof JobOutput out) {
        outputs.put(out.jobId(), out); // the newest of a poll wins
      } else if (o instanceof io.workron.schemas.JobCheckpoint cp) {
        checkpoints.put(cp.jobId(), cp);
      }
    }
    if (results.isEmpty() && outputs.isEmpty() && checkpoints.isEmpty()) {
      return;
    }
    tx.executeWithoutResult(
        status -> {
          if (!checkpoints.isEmpty()) {
            // the rows first (with their gangs', in id order), as every writer takes them
            List<String> ids = new ArrayList<>(checkpoints.keySet());
            results.forEach(r -> ids.add(r.jobId()));
            drains.lockTasks(ids);
            db.resultQuery(
                    "select id from jobs where id = any(?::varchar[]) order by id for update",
                    (Object) ids.stream().distinct().sorted().toArray(String[]::new))
                .fetch();
          }
          // before the results: a checkpoint a running attempt shipped precedes its result
          applyCheckpoints(checkpoints.values());
          if (!results.isEmpty()) {
            applyInTransaction(results);
          }
          applyOutputs(outputs.values());
        });
  }

  /**
   * Keeps each shipped checkpoint as its job's checkpoint while that attempt, in that epoch, is the
   * job's current one (running, reserved, or stopping in a drain round); anything else is stale. A
   * refused one (too big) is noted in the attempt's history.
   */
  private void applyCheckpoints(java.util.Collection<io.workron.schemas.JobCheckpoint> all) {
    if (all.isEmpty()) {
      return;
    }
    List<io.workron.schemas.JobCheckpoint> shipped = new ArrayList<>();
    for (io.workron.schemas.JobCheckpoint cp : all) {
      if (cp.data() != null) {
        shipped.add(cp);
      } else if (cp.refused() != null) {
        note(cp.jobId(), cp.attempt(), cp.refused());
      }
    }
    int kept =
        storeCheckpoints(
            shipped.stream()
                .map(c -> new Shipped(c.jobId(), c.attempt(), c.epoch(), c.data()))
                .toList(),
            LIVE_STATUSES);
    if (kept < shipped.size()) {
      meters
          .counter("workron_stale_messages_total", "kind", "checkpoint")
          .increment(shipped.size() - kept);
    }
  }

  /**
   * The statuses a job may be in when a checkpoint of its current attempt is kept: any but the
   * finished ones (one shipped as it was drained, or taken back, is its newest state).
   */
  private static final String LIVE_STATUSES =
      "'running', 'reserved', 'preempting', 'preempted', 'blocked', 'pending'";

  /** A checkpoint to keep: base64 data, bound to its attempt and (if given) epoch. */
  private record Shipped(String jobId, int attempt, Integer epoch, String data) {}

  /**
   * Upserts each checkpoint whose job is still at that attempt (and epoch) in one of {@code
   * statuses}; one bigger than {@code checkpoint-max-bytes} is noted instead. Returns how many were
   * kept or refused.
   */
  private int storeCheckpoints(List<Shipped> shipped, String statuses) {
    if (shipped.isEmpty()) {
      return 0;
    }
    List<Shipped> fits = new ArrayList<>();
    int refused = 0;
    for (Shipped s : shipped) {
      long bytes = (long) s.data().length() * 3 / 4;
      if (bytes > checkpointMaxBytes + 2) {
        note(
            s.jobId(),
            s.attempt(),
            "checkpoint of about "
                + bytes
                + " bytes is larger than the limit of "
                + checkpointMaxBytes
                + " bytes; not stored");
        refused++;
      } else {
        fits.add(s);
      }
    }
    if (fits.isEmpty()) {
      return refused;
    }
    Object kept =
        db.fetchValue(
            "with kept as (insert into checkpoints (job_id, attempt, epoch, data, updated_at) "
                + "select v.job_id, v.attempt, coalesce(v.epoch, j.epoch), decode(v.data, 'base64'), "
                + "?::timestamptz "
                + "from unnest(?::varchar[], ?::int[], ?::int[], ?::text[]) "
                + "  as v(job_id, attempt, epoch, data) "
                + "join jobs j on j.id = v.job_id and j.attempt = v.attempt "
                // written in this attempt's round or, while it drained, in the one before
                + "  and (v.epoch is null or v.epoch <= j.epoch) and j.status in ("
                + statuses
                + ") "
                + "on conflict (job_id) do update set attempt = excluded.attempt, "
                + "epoch = excluded.epoch, data = excluded.data, updated_at = excluded.updated_at "
                + "returning job_id), "
                + "marked as (update jobs set has_checkpoint = true where id in (select job_id from kept) "
                + "and not has_checkpoint) "
                + "select count(*) from kept",
            OffsetDateTime.now(clock),
            fits.stream().map(Shipped::jobId).toArray(String[]::new),
            fits.stream().map(Shipped::attempt).toArray(Integer[]::new),
            fits.stream().map(Shipped::epoch).toArray(Integer[]::new),
            fits.stream().map(Shipped::data).toArray(String[]::new));
    return refused + ((Number) kept).intValue();
  }

  /** Notes on the attempt's history why its checkpoint was not stored. */
  private void note(String jobId, int attempt, String why) {
    db.execute(
        "update job_attempts set checkpoint_note = ? where job_id = ? and attempt = ?",
        withoutNul(why),
        jobId,
        attempt);
  }

  /**
   * Keeps each output as its job's output while that attempt is the job's running one; one about an
   * attempt that ended or was taken back changes nothing.
   */
  private void applyOutputs(java.util.Collection<JobOutput> outputs) {
    if (outputs.isEmpty()) {
      return;
    }
    String[] ids = outputs.stream().map(JobOutput::jobId).toArray(String[]::new);
    Integer[] attempts = outputs.stream().map(JobOutput::attempt).toArray(Integer[]::new);
    String[] texts =
        outputs.stream()
            .map(o -> o.outputTail() == null ? "" : withoutNul(o.outputTail()))
            .toArray(String[]::new);
    Boolean[] truncated = outputs.stream().map(JobOutput::outputTruncated).toArray(Boolean[]::new);
    int kept =
        db.execute(
            "insert into job_outputs (job_id, attempt, output, truncated) "
                + "select v.job_id, v.attempt, v.output, v.truncated "
                + "from unnest(?::varchar[], ?::int[], ?::text[], ?::bool[]) "
                + "  as v(job_id, attempt, output, truncated) "
                + "join jobs j on j.id = v.job_id and j.status = 'running' and j.attempt = v.attempt "
                + "on conflict (job_id) do update set attempt = excluded.attempt, "
                + "  output = excluded.output, truncated = excluded.truncated",
            ids,
            attempts,
            texts,
            truncated);
    if (kept < outputs.size()) {
      meters
          .counter("workron_stale_messages_total", "kind", "output")
          .increment(outputs.size() - kept);
    }
  }

  /**
   * Decides each result's verdict from the job's locked row, then applies the transitions; the
   * table decides what is stale (another attempt, or a status the transition does not start from:
   * finished, or an interruption of an attempt already taken back).
   */
  private void applyInTransaction(List<JobResult> results) {
    OffsetDateTime now = OffsetDateTime.now(clock);
    String[] ids =
        results.stream().map(JobResult::jobId).distinct().sorted().toArray(String[]::new);
    // the rows of these jobs and of every task of their gangs, in id order, before anything else
    Map<String, io.workron.scheduler.gangs.GangDrains.Task> gangTasks =
        drains.lockTasks(java.util.Arrays.asList(ids));
    Map<String, List<io.workron.scheduler.gangs.GangDrains.Trigger>> triggers =
        new LinkedHashMap<>();
    List<JobTransitions.Move> acks = new ArrayList<>();
    List<JobTransitions.Move> singleAcks = new ArrayList<>();
    Map<String, Current> current = new HashMap<>();
    db.resultQuery(
            "select id, attempt, free_attempts + budget_start_attempt, max_retries,"
                + " case when cancel_requested_at is not null"
                + " then coalesce(cancel_reason, 'cancelled by request') end, status, epoch from jobs "
                + "where id = any(?::varchar[]) order by id for update",
            (Object) ids)
        .forEach(
            r ->
                current.put(
                    r.get(0, String.class),
                    new Current(
                        r.get(1, Integer.class),
                        r.get(2, Integer.class),
                        r.get(3, Integer.class),
                        r.get(4, String.class),
                        JobStatus.fromWire(r.get(5, String.class)),
                        r.get(6, Integer.class))));
    // what the commands left in their checkpoint files as they exited, kept before the results
    // move the jobs (the attempt is still the current one)
    List<Shipped> exitCheckpoints = new ArrayList<>();
    for (JobResult r : results) {
      Current c = current.get(r.jobId());
      if (c != null && c.attempt() == r.attempt()) {
        if (r.checkpoint() != null) {
          exitCheckpoints.add(new Shipped(r.jobId(), r.attempt(), null, r.checkpoint()));
        } else if (r.checkpointRefused() != null) {
          note(r.jobId(), r.attempt(), r.checkpointRefused());
        }
      }
    }
    storeCheckpoints(exitCheckpoints, LIVE_STATUSES);
    Map<Transition, List<JobTransitions.Move>> moves = new EnumMap<>(Transition.class);
    Map<String, JobResult> reported = new LinkedHashMap<>();
    for (JobResult r : results) {
      Current c = current.get(r.jobId());
      if (c == null) {
        stale(r, "unknown job");
        continue;
      }
      if (c.attempt() != r.attempt()) {
        stale(r, "job is at attempt " + c.attempt());
        continue;
      }
      if (reported.putIfAbsent(r.jobId(), r) != null) {
        stale(r, "another result for this job came first in the same poll");
        continue;
      }
      AttemptVerdict verdict =
          AttemptVerdict.of(
              r,
              c.attempt() - c.notCounted(),
              c.maxRetries(),
              retryPolicy,
              now.toInstant(),
              random);
      JobTransitions.Move base =
          JobTransitions.Move.at(r.jobId(), r.attempt())
              .ran(r.exitCode(), at(r.startedAt()), at(r.finishedAt()))
              // for the event only: no transition of a result writes the worker
              .on(r.workerId(), r.incarnation());
      io.workron.scheduler.gangs.GangDrains.Task task = gangTasks.get(r.jobId());
      if (task != null && c.cancelReason() == null) {
        if (task.status() == JobStatus.PREEMPTING) {
          // the attempt ended in a drain round: its acknowledgement, whatever the outcome, unless
          // it names an older round
          if (r.epoch() != null && r.epoch() != task.epoch()) {
            stale(r, "drain round " + r.epoch() + " is over; the task is in round " + task.epoch());
            continue;
          }
          acks.add(base.inEpoch(task.epoch()));
          continue;
        }
        if (verdict.kind() != AttemptVerdict.Kind.DONE
            && (task.status() == JobStatus.RUNNING || task.status() == JobStatus.RESERVED)) {
          // a task of a running gang failed, timed out or was interrupted: the gang drains
          triggers
              .computeIfAbsent(task.gangId(), k -> new ArrayList<>())
              .add(
                  new io.workron.scheduler.gangs.GangDrains.Trigger(
                      r.jobId(),
                      r.attempt(),
                      verdict.reason(),
                      verdict.kind() != AttemptVerdict.Kind.REQUEUE,
                      r.exitCode(),
                      at(r.startedAt()),
                      true));
          continue;
        }
      }
      if (task == null
          && c.status() == JobStatus.PREEMPTING
          && c.cancelReason() == null
          && verdict.kind() != AttemptVerdict.Kind.DONE) {
        // a job preempted for higher-priority work acknowledged the stop: back to the queue, its
        // attempt refunded (a success that came first makes it done, below)
        if (r.epoch() != null && r.epoch() != c.epoch()) {
          stale(r, "preemption round " + r.epoch() + " is over; the job is in round " + c.epoch());
          continue;
        }
        singleAcks.add(base.inEpoch(c.epoch()));
        continue;
      }
      if (c.cancelReason() != null && verdict.kind() != AttemptVerdict.Kind.DONE) {
        // cancelled while running: whatever ended the attempt (the stop, or a failure first), the
        // job does not run again; a success that came first stands (done wins)
        moves
            .computeIfAbsent(Transition.CANCEL_RUNNING, k -> new ArrayList<>())
            .add(base.because(c.cancelReason()));
        continue;
      }
      JobTransitions.Move move =
          switch (verdict.kind()) {
            case DONE -> base;
            case FAILED -> base.because(verdict.reason());
            case RETRY -> base.because(verdict.reason()).runAt(at(verdict.runAt()));
            case REQUEUE -> base.because(verdict.reason()).runAt(at(verdict.runAt())).free(true);
          };
      moves.computeIfAbsent(transitionOf(verdict.kind()), k -> new ArrayList<>()).add(move);
    }
    List<String> doneIds = new ArrayList<>();
    List<String> failedIds = new ArrayList<>();
    List<JobResult> applied = new ArrayList<>();
    moves.forEach(
        (t, list) -> {
          JobTransitions.Applied a = transitions.apply(t, list, now);
          for (JobTransitions.Moved m : a.moved()) {
            JobResult r = reported.get(m.jobId());
            applied.add(r);
            switch (m.status()) {
              case DONE -> doneIds.add(m.jobId());
              case FAILED, CANCELLED -> failedIds.add(m.jobId());
              default -> {}
            }
            meters
                .counter(
                    "workron_attempts_finished_total",
                    "outcome",
                    r.outcome().name().toLowerCase(java.util.Locale.ROOT),
                    "verdict",
                    m.status().wire())
                .increment();
          }
          for (JobTransitions.Refusal refusal : a.refused()) {
            stale(reported.get(refusal.jobId()), refusal.detail());
          }
        });
    for (String id : drains.requeuePreempted(singleAcks, now)) {
      applied.add(reported.get(id));
    }
    List<String> acknowledged = drains.acknowledge(acks, now);
    acknowledged.forEach(id -> applied.add(reported.get(id)));
    triggers.forEach(
        (gang, list) -> {
          if (drains.begin(gang, list, list.get(0).reason(), gangTasks, now) > 0) {
            list.forEach(t -> applied.add(reported.get(t.jobId())));
          } else {
            list.forEach(t -> stale(reported.get(t.jobId()), "its gang ran nothing any more"));
          }
        });
    recordAttempts(applied);
    graph.releaseDependentsOf(doneIds);
    graph.cancelDownstreamOf(failedIds);
  }

  private static Transition transitionOf(AttemptVerdict.Kind kind) {
    return switch (kind) {
      case DONE -> Transition.FINISH;
      case FAILED -> Transition.FAIL;
      case RETRY -> Transition.RETRY;
      case REQUEUE -> Transition.REQUEUE;
    };
  }

  /**
   * The attempt history and the output of the results that counted: two statements for the whole
   * poll, whatever its size (one text each, so PostgreSQL plans them once per connection). Where a
   * poll holds two results for one attempt or one job, the later one is what stays, as when they
   * came in two polls.
   */
  private void recordAttempts(List<JobResult> applied) {
    if (applied.isEmpty()) {
      return;
    }
    Map<String, JobResult> byAttempt = new LinkedHashMap<>();
    Map<String, JobResult> byJob = new LinkedHashMap<>();
    for (JobResult r : applied) {
      // put keeps the later result; which row of the statement comes first does not matter
      byAttempt.put(r.jobId() + "\u0000" + r.attempt(), r);
      byJob.put(r.jobId(), r);
    }
    List<JobResult> attempts = List.copyOf(byAttempt.values());
    db.execute(
        "update job_attempts a set started_at = v.started_at, finished_at = v.finished_at, "
            + "exit_code = v.exit_code, outcome = v.outcome, reason = v.reason "
            + "from unnest(?::varchar[], ?::int[], ?::timestamptz[], ?::timestamptz[], ?::int[], "
            + "?::varchar[], ?::text[]) "
            + "as v(job_id, attempt, started_at, finished_at, exit_code, outcome, reason) "
            + "where a.job_id = v.job_id and a.attempt = v.attempt",
        attempts.stream().map(JobResult::jobId).toArray(String[]::new),
        attempts.stream().map(JobResult::attempt).toArray(Integer[]::new),
        attempts.stream().map(r -> at(r.startedAt())).toArray(OffsetDateTime[]::new),
        attempts.stream().map(r -> at(r.finishedAt())).toArray(OffsetDateTime[]::new),
        attempts.stream().map(JobResult::exitCode).toArray(Integer[]::new),
        attempts.stream()
            .map(r -> r.outcome().name().toLowerCase(java.util.Locale.ROOT))
            .toArray(String[]::new),
        attempts.stream().map(r -> withoutNul(r.reason())).toArray(String[]::new));
    List<JobResult> outputs = List.copyOf(byJob.values());
    db.execute(
        "insert into job_outputs (job_id, attempt, output, truncated) "
            + "select * from unnest(?::varchar[], ?::int[], ?::text[], ?::boolean[]) "
            + "on conflict (job_id) do update set attempt = excluded.attempt, "
            + "output = excluded.output, truncated = excluded.truncated",
        outputs.stream().map(JobResult::jobId).toArray(String[]::new),
        outputs.stream().map(JobResult::attempt).toArray(Integer[]::new),
        outputs.stream()
            .map(r -> r.outputTail() == null ? "" : withoutNul(r.outputTail()))
            .toArray(String[]::new),
        outputs.stream()
            .map(r -> Boolean.TRUE.equals(r.outputTruncated()))
            .toArray(Boolean[]::new));
  }

  private void stale(JobResult r, String why) {
    meters.counter("workron_stale_messages_total", "kind", "result").increment();
    log.atInfo()
        .addKeyValue("job_id", r.jobId())
        .addKeyValue("attempt", r.attempt())
        .addKeyValue("worker_id", r.workerId())
        .log(
            "ignored stale result job_id={} attempt={} worker_id={}: {}",
            r.jobId(),
            r.attempt(),
            r.workerId(),
            why);
  }

  /** PostgreSQL text cannot hold NUL; a worker's text must not be able to wedge the batch. */
  private static String withoutNul(String text) {
    return text == null ? null : text.replace("\u0000", "");
  }

  private static OffsetDateTime at(Instant i) {
    return i == null ? null : i.atOffset(ZoneOffset.UTC);
  }
}
