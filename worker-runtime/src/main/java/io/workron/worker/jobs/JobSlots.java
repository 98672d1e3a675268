package io.workron.worker.jobs;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import io.workron.kafka.JobTraces;
import io.workron.schemas.JobDispatch;
import io.workron.schemas.JobOutput;
import io.workron.schemas.JobResult;
import io.workron.schemas.JobResult.Outcome;
import io.workron.schemas.JobStop;
import io.workron.schemas.StopCause;
import io.workron.schemas.WorkerHeartbeat.RunningAttempt;
import io.workron.worker.WorkerIdentity;
import io.workron.worker.WorkerProperties;
import io.workron.worker.execution.CommandCompletion;
import io.workron.worker.execution.CommandRunner;
import io.workron.worker.execution.RunningCommand;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.springframework.stereotype.Component;

/**
 * Runs accepted dispatches, at most {@code slots} at a time; the rest wait in a queue. An attempt
 * stays listed in heartbeats from the moment it is accepted until its result is acknowledged by the
 * broker, so the scheduler never re-queues work this worker still owns.
 */
@Component
public final class JobSlots implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(JobSlots.class);
  private static final int MAX_REASON_LENGTH = 4096;
  static final String SHUTTING_DOWN = "worker shutting down";

  private final WorkerIdentity identity;
  private final WorkerProperties properties;
  private final CommandRunner runner;
  private final ResultPublisher results;
  private final JobMetrics metrics;
  private final Clock clock;
  private final ThreadPoolExecutor executor;

  /**
   * Fires the stop of an attempt that runs past its {@code timeout_seconds}, and sends running
   * commands' output every {@code output-interval}.
   */
  private final ScheduledExecutorService timeouts = timeoutExecutor();

  /** One thread; a deadline cancelled when its attempt ends is dropped at once, not kept queued. */
  private static ScheduledExecutorService timeoutExecutor() {
    java.util.concurrent.ScheduledThreadPoolExecutor e =
        new java.util.concurrent.ScheduledThreadPoolExecutor(1, threads("workron-timeout-"));
    e.setRemoveOnCancelPolicy(true);
    return e;
  }

  private final Object lock = new Object();
  private final Map<Attempt, Boolean> accepted = new LinkedHashMap<>();
  private final Map<Attempt, RunningCommand> running = new HashMap<>();
  private final Map<Attempt, StopCause> stopOrders = new HashMap<>();

  /** The checkpoint file of each running attempt. */
  private final Map<Attempt, CheckpointFile> checkpoints =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** The epoch each running attempt's dispatch named, for the checkpoints it ships. */
  private final Map<Attempt, Integer> epochs = new java.util.concurrent.ConcurrentHashMap<>();

  /** The drain round of a preempt order, echoed in the attempt's result. */
  private final Map<Attempt, Integer> stopEpochs = new HashMap<>();

  /** The output last sent per running attempt (only the output thread touches it). */
  private final Map<Attempt, String> outputSent = new java.util.concurrent.ConcurrentHashMap<>();

  private boolean draining;

  private volatile Runnable gangTaskStarted = () -> {};

  /** {@code r} runs each time a gang task's command has started. */
  public void onGangTaskStarted(Runnable r) {
    this.gangTaskStarted = r;
  }

  private final JobTraces traces;

  JobSlots(
      WorkerIdentity identity,
      WorkerProperties properties,
      CommandRunner runner,
      ResultPublisher results,
      JobMetrics metrics,
      Clock clock,
      JobTraces traces) {
    this.traces = traces;
    this.identity = identity;
    this.properties = properties;
    this.runner = runner;
    this.results = results;
    this.metrics = metrics;
    this.clock = clock;
    this.executor =
        new ThreadPoolExecutor(
            properties.slots(),
            properties.slots(),
            0,
            TimeUnit.MILLISECONDS,
            new LinkedBlockingQueue<>(),
            threads("workron-job-"));
    CheckpointFile.clear(properties.stateDirectory().resolve("checkpoints"));
    timeouts.scheduleWithFixedDelay(
        this::shipCheckpoints,
        properties.checkpointInterval().toMillis(),
        properties.checkpointInterval().toMillis(),
        TimeUnit.MILLISECONDS);
    timeouts.scheduleWithFixedDelay(
        this::sendOutputs,
        properties.outputInterval().toMillis(),
        properties.outputInterval().toMillis(),
        TimeUnit.MILLISECONDS);
    Gauge.builder("workron.worker.jobs.running", this, JobSlots::runningCount)
        .description("Commands this worker is running now")
        .register(metrics.registry());
    // slots: what it offers, and how many hold a command (the same figure as jobs.running)
    Gauge.builder("workron.worker.slots", properties, p -> p.slots())
        .description("Job slots this worker offers")
        .register(metrics.registry());
    Gauge.builder("workron.worker.slots.busy", this, JobSlots::runningCount)
        .description("Job slots holding a running command")
        .register(metrics.registry());
  }

  /** Queues an admitted dispatch; it starts as soon as a slot is free. */
  void accept(JobDispatch dispatch, String requestId, String traceparent) {
    Attempt attempt = Attempt.of(dispatch);
    synchronized (lock) {
      accepted.put(attempt, Boolean.TRUE);
    }
    executor.execute(() -> run(dispatch, attempt, requestId, traceparent));
  }

  /**
   * Stops one attempt this incarnation holds (a {@code job.stop.v1} for it): a running command gets
   * SIGTERM, {@code stop-grace}, then SIGKILL, on its whole process group; a queued one never
   * starts. Either way the attempt is reported {@code interrupted} with the stop's cause. A stop
   * for an attempt not held (finished, or never received) changes nothing.
   */
  void stop(JobStop stop) {
    Attempt attempt = new Attempt(stop.jobId(), stop.attempt());
    RunningCommand command;
    synchronized (lock) {
      if (!accepted.containsKey(attempt)) {
        log.info("stop for {} ignored: not held here ({})", attempt, stop.cause().wire());
        return;
      }
      if (stopOrders.putIfAbsent(attempt, stop.cause()) == null && stop.epoch() != null) {
        stopEpochs.put(attempt, stop.epoch());
      }
      command = running.get(attempt);
    }
    if (command == null) {
      log.info("{} will not start: stopped ({})", attempt, stop.cause().wire());
      return;
    }
    log.info("stopping {} pid={} ({})", attempt, command.pid(), stop.cause().wire());
    stopInBackground(attempt, command);
  }

  /**
   * Stops {@code command} (SIGTERM, {@code stop-grace}, SIGKILL) on a thread of its own, if it is
   * still {@code attempt}'s running command by then: one that ended meanwhile, its process group
   * possibly reused, must not be signalled.
   */
  private void stopInBackground(Attempt attempt, RunningCommand command) {
    threads("workron-stop-")
        .newThread(
            () -> {
              synchronized (lock) {
                if (running.get(attempt) != command) {
                  return;
                }
              }
              command.stop(properties.stopGrace());
            })
        .start();
  }

  /** Stops {@code attempt} for running past its {@code timeout_seconds}, unless already stopped. */
  private void timeOut(Attempt attempt, RunningCommand command, int timeoutSeconds) {
    synchronized (lock) {
      if (running.get(attempt) != command
          || stopOrders.putIfAbsent(attempt, StopCause.TIMED_OUT) != null) {
        return; // ended, or being stopped for another cause that then stands
      }
    }
    log.info(
        "stopping {} pid={}: {}", attempt, command.pid(), StopCause.timedOutAfter(timeoutSeconds));
    stopInBackground(attempt, command);
  }

  /**
   * Sends the recent output of every running command whose output changed since the last time (at
   * most {@link JobOutput#MAX_TAIL_CHARS} of its newest characters).
   */
  private void sendOutputs() {
    List<Map.Entry<Attempt, RunningCommand>> now;
    synchronized (lock) {
      now = new ArrayList<>(running.entrySet());
      outputSent.keySet().retainAll(running.keySet());
    }
    for (Map.Entry<Attempt, RunningCommand> e : now) {
      try {
        String text = e.getValue().outputSoFar();
        if (text.equals(outputSent.getOrDefault(e.getKey(), ""))) {
          continue; // unchanged, or nothing written yet: an empty tail tells a reader nothing
        }
        outputSent.put(e.getKey(), text);
        boolean cut = text.length() > JobOutput.MAX_TAIL_CHARS;
        String tail = cut ? text.substring(text.length() - JobOutput.MAX_TAIL_CHARS) : text;
        results.publishOutput(
            new JobOutput(
                e.getKey().jobId(),
                e.getKey().attempt(),
                identity.workerId(),
                identity.incarnation(),
                tail,
                cut || e.getValue().outputTruncated()));
      } catch (RuntimeException ex) {
        log.debug("could not send the output of {}: {}", e.getKey(), ex.toString());
      }
    }
  }

  /**
   * Ships the checkpoint file of every running attempt that changed it since the last time ({@code
   * job.checkpoint.v1}, best effort: the result carries the last one again).
   */
  private void shipCheckpoints() {
    for (Map.Entry<Attempt, CheckpointFile> e : checkpoints.entrySet()) {
      try {
        Object changed = e.getValue().changed();
        if (changed == null) {
          continue;
        }
        Attempt a = e.getKey();
        boolean refused = changed instanceof CheckpointFile.Refused;
        results.publishCheckpoint(
            new io.workron.schemas.JobCheckpoint(
                a.jobId(),
                a.attempt(),
                epochs.getOrDefault(a, 0),
                identity.workerId(),
                identity.incarnation(),
                refused ? null : java.util.Base64.getEncoder().encodeToString((byte[]) changed),
                refused ? ((CheckpointFile.Refused) changed).reason() : null));
        if (refused) {
          log.warn("{}: {}", a, ((CheckpointFile.Refused) changed).reason());
        } else {
          log.info(
              "checkpoint shipped job_id={} attempt={} bytes={}",
              a.jobId(),
              a.attempt(),
              ((byte[]) changed).length);
        }
      } catch (RuntimeException ex) {
        log.debug("could not ship the checkpoint of {}: {}", e.getKey(), ex.toString());
      }
    }
  }

  /** The result, carrying what the command left in its checkpoint file if that changed. */
  private JobResult withCheckpoint(JobResult r, CheckpointFile file) {
    if (file == null) {
      return r;
    }
    try {
      Object changed = file.atExit();
      if (changed instanceof byte[] bytes) {
        return r.withCheckpoint(java.util.Base64.getEncoder().encodeToString(bytes), null);
      }
      if (changed instanceof CheckpointFile.Refused refused) {
        return r.withCheckpoint(null, refused.reason());
      }
    } catch (RuntimeException e) {
      log.warn(
          "could not read the checkpoint of {}: {}",
          new Attempt(r.jobId(), r.attempt()),
          e.toString());
    }
    return r;
  }

  /** Attempts accepted and not yet reported, for the heartbeat. */
  public List<RunningAttempt> activeAttempts() {
    synchronized (lock) {
      return accepted.keySet().stream().map(Attempt::toWire).toList();
    }
  }

  /** Commands running now (not counting queued attempts). */
  public int runningCount() {
    synchronized (lock) {
      return running.size();
    }
  }

  /**
   * Starts no more commands (queued attempts are reported as interrupted) and waits up to {@code
   * deadline} for the running ones to finish and be reported. True when all have.
   */
  public boolean drain(Duration deadline) throws InterruptedException {
    synchronized (lock) {
      draining = true;
    }
    executor.shutdown();
    return executor.awaitTermination(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Stops every command still running (SIGTERM, {@code grace}, SIGKILL), all at once, and waits up
   * to {@code reportWithin} more for their results to be delivered. True when all were.
   */
  public boolean interruptAll(Duration grace, Duration reportWithin) throws InterruptedException {
    List<Map.Entry<Attempt, RunningCommand>> toStop;
    synchronized (lock) {
      draining = true;
      toStop = new ArrayList<>(running.entrySet());
    }
    List<Thread> stoppers = new ArrayList<>();
    for (Map.Entry<Attempt, RunningCommand> entry : toStop) {
      log.info(
          "stopping {} pid={} because the worker is shutting down", entry.getKey(), pid(entry));
      Thread stopper = threads("workron-stop-").newThread(() -> entry.getValue().stop(grace));
      stopper.start();
      stoppers.add(stopper);
    }
    for (Thread stopper : stoppers) {
      stopper.join();
    }
    return executor.awaitTermination(reportWithin.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Gives up on results still being retried (logging them) and releases the threads. */
  @Override
  public void close() {
    results.close();
    timeouts.shutdownNow();
    executor.shutdownNow();
  }

  private void run(JobDispatch dispatch, Attempt attempt, String requestId, String traceparent) {
    MDC.put("job_id", attempt.jobId());
    MDC.put("worker_id", identity.workerId());
    MDC.put("attempt", Integer.toString(attempt.attempt()));
    if (requestId != null) {
      MDC.put("request_id", requestId);
    }
    // the attempt's span: a child of the dispatch, the parent of the process (TRACEPARENT) and of
    // scheduler-core's handling of the result
    Span span = traces.start("workron.job.run", Span.Kind.CONSUMER, traceparent);
    span.tag("workron.job_id", attempt.jobId());
    span.tag("workron.attempt", attempt.attempt());
    span.tag("workron.worker_id", identity.workerId());
    String own = traces.traceparent(span);
    try (Tracer.SpanInScope scope = traces.tracer().withSpan(span)) {
      JobResult result =
          withEpoch(
              withCheckpoint(execute(dispatch, attempt, own), checkpoints.get(attempt)), attempt);
      span.tag("workron.outcome", result.outcome().name().toLowerCase(java.util.Locale.ROOT));
      boolean delivered = results.publish(result, requestId, own);
      metrics.finished(result.outcome());
      log.info(
          "job finished job_id={} attempt={} outcome={} exit_code={} duration_ms={}{}",
          attempt.jobId(),
          attempt.attempt(),
          result.outcome().name().toLowerCase(java.util.Locale.ROOT),
          result.exitCode(),
          result.durationMs(),
          delivered ? "" : " (result not delivered)");
    } catch (RuntimeException e) {
      // a bug must not kill the slot thread silently; the attempt is re-queued by the scheduler
      span.error(e);
      log.error("job {} crashed the worker's job thread", attempt, e);
    } finally {
      span.end();
      synchronized (lock) {
        accepted.remove(attempt);
        stopOrders.remove(attempt);
        stopEpochs.remove(attempt);
      }
      CheckpointFile file = checkpoints.remove(attempt);
      epochs.remove(attempt);
      if (file != null) {
        file.delete();
      }
      MDC.clear();
    }
  }

  private JobResult execute(JobDispatch dispatch, Attempt attempt, String traceparent) {
    RunningCommand command;
    synchronized (lock) {
      if (draining) {
        return neverStarted(attempt, SHUTTING_DOWN, StopCause.SHUTDOWN);
      }
      StopCause ordered = stopOrders.get(attempt);
      if (ordered != null) {
        return neverStarted(attempt, "stopped before it started: " + ordered.wire(), ordered);
      }
      Map<String, String> env = new HashMap<>();
      if (dispatch.env() != null) {
        env.putAll(dispatch.env());
      }
      // set last so a dispatch cannot disguise which attempt is running
      env.put("WORKRON_JOB_ID", dispatch.jobId());
      env.put("WORKRON_ATTEMPT", Integer.toString(dispatch.attempt()));
      if (traceparent != null) {
        // W3C Trace Context for the job's own work: its spans join the job's trace
        env.put("TRACEPARENT", traceparent);
      }
      try {
        CheckpointFile file =
            CheckpointFile.prepare(
                properties.stateDirectory().resolve("checkpoints"),
                attempt,
                dispatch.checkpoint(),
                dispatch.checkpointMaxBytes());
        checkpoints.put(attempt, file);
        epochs.put(attempt, dispatch.epoch() == null ? 0 : dispatch.epoch());
        env.put("WORKRON_CHECKPOINT_FILE", file.path().toString());
        // the seed's variable too, when it fits one environment string (Linux: 128 KiB)
        if (dispatch.checkpoint() != null
            && java.util.Base64.getDecoder().decode(dispatch.checkpoint()).length
                <= io.workron.schemas.JobCheckpoint.MAX_ENV_BYTES) {
          env.put("CHECKPOINT_DATA", dispatch.checkpoint());
        }
        long spawnStart = System.nanoTime();
        command =
            runner.start(
                dispatch.command(), env, attempt.jobId() + "/attempt-" + attempt.attempt());
        metrics.spawned(System.nanoTime() - spawnStart);
      } catch (IOException | RuntimeException e) {
        Instant now = clock.instant();
        log.warn(
            "job could not start job_id={} attempt={}: {}",
            attempt.jobId(),
            attempt.attempt(),
            e.getMessage());
        return result(
            attempt,
            Outcome.FAILED,
            null,
            now,
            now,
            null,
            false,
            "could not start: " + e.getMessage(),
            null);
      }
      running.put(attempt, command);
    }
    log.info(
        "job started job_id={} attempt={} pid={}",
        attempt.jobId(),
        attempt.attempt(),
        command.pid());
    if (dispatch.env() != null && dispatch.env().containsKey("GANG_ID")) {
      // a gang task runs, for scheduler-core, once a heartbeat lists it: list it now, not at the
      // next tick (until then a sibling's failure would find it "reserved, not started")
      gangTaskStarted.run();
    }
    Integer limit = dispatch.timeoutSeconds();
    ScheduledFuture<?> deadline =
        limit == null
            ? null
            : timeouts.schedule(() -> timeOut(attempt, command, limit), limit, TimeUnit.SECONDS);
    CommandCompletion done;
    try {
      done = command.await();
    } catch (InterruptedException e) {
      // only a forced close interrupts a job thread: do not leave the command behind
      Thread.currentThread().interrupt();
      command.stop(properties.stopGrace());
      Instant now = clock.instant();
      return result(
          attempt,
          Outcome.INTERRUPTED,
          null,
          command.startedAt(),
          now,
          null,
          false,
          SHUTTING_DOWN,
          StopCause.SHUTDOWN);
    } finally {
      if (deadline != null) {
        deadline.cancel(false);
      }
      synchronized (lock) {
        running.remove(attempt);
      }
    }
    StopCause ordered;
    synchronized (lock) {
      ordered = stopOrders.get(attempt);
    }
    if (done.stopped() && ordered == StopCause.TIMED_OUT) {
      // a failed attempt, retried with backoff while attempts are left
      return completed(attempt, Outcome.FAILED, done, StopCause.timedOutAfter(limit), ordered);
    }
    if (done.stopped() && ordered != null) {
      // stopped on the scheduler's order: whatever the exit code (a command may save its work and
      // exit 0 on SIGTERM), the attempt did not finish; a success here would mark a job whose
      // attempt was taken back done
      return completed(attempt, Outcome.INTERRUPTED, done, "stopped: " + ordered.wire(), ordered);
    }
    if (done.exitCode() == 0) {
      return completed(attempt, Outcome.SUCCEEDED, done, null, null);
    }
    if (done.stopped()) {
      return completed(attempt, Outcome.INTERRUPTED, done, SHUTTING_DOWN, StopCause.SHUTDOWN);
    }
    return completed(attempt, Outcome.FAILED, done, "exit code " + done.exitCode(), null);
  }

  /** The result, naming the drain round whose preempt order stopped it, if one did. */
  private JobResult withEpoch(JobResult r, Attempt attempt) {
    Integer epoch;
    synchronized (lock) {
      epoch = stopEpochs.get(attempt);
    }
    if (epoch == null || r.stopCause() != StopCause.PREEMPTED) {
      return r;
    }
    return r.inEpoch(epoch);
  }

  /** An attempt interrupted before its command started. */
  private JobResult neverStarted(Attempt attempt, String reason, StopCause cause) {
    Instant now = clock.instant();
    return result(attempt, Outcome.INTERRUPTED, null, now, now, null, false, reason, cause);
  }

  private JobResult completed(
      Attempt attempt,
      Outcome outcome,
      CommandCompletion done,
      String reason,
      StopCause stopCause) {
    return result(
        attempt,
        outcome,
        done.exitCode(),
        done.startedAt(),
        done.finishedAt(),
        done.output(),
        done.outputTruncated(),
        reason,
        stopCause);
  }

  private JobResult result(
      Attempt attempt,
      Outcome outcome,
      Integer exitCode,
      Instant startedAt,
      Instant finishedAt,
      String output,
      boolean truncated,
      String reason,
      StopCause stopCause) {
    String boundedReason =
        reason == null || reason.length() <= MAX_REASON_LENGTH
            ? reason
            : reason.substring(0, MAX_REASON_LENGTH);
    return new JobResult(
        attempt.jobId(),
        attempt.attempt(),
        identity.workerId(),
        identity.incarnation(),
        outcome,
        exitCode,
        startedAt,
        finishedAt,
        Math.max(0, Duration.between(startedAt, finishedAt).toMillis()),
        output == null ? "" : output,
        truncated,
        boundedReason,
        stopCause);
  }

  private static long pid(Map.Entry<Attempt, RunningCommand> entry) {
    return entry.getValue().pid();
  }

  private static ThreadFactory threads(String prefix) {
    AtomicInteger counter = new AtomicInteger();
    return task -> {
      Thread thread = new Thread(task, prefix + counter.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }
}
