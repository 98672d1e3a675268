package io.workron.bench;

import io.workron.schemas.WireCodec;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Phase 2: submit jobs at a fixed rate and measure, per job, the time from its submission to the
 * moment its command started and to the moment it finished (both as the worker measured them and
 * reported in the {@code done} event). The submission time is the pacer's scheduled slot, not the
 * time the send happened, so a stalled producer shows up as latency instead of hiding it.
 */
final class LatencyRun {

  private static final Logger log = LoggerFactory.getLogger(LatencyRun.class);

  /** Latencies above an hour are clamped; the histogram keeps 3 significant digits. */
  private static final long MAX_MICROS = 3_600_000_000L;

  record Result(
      int jobs,
      int done,
      int failed,
      double ratePerSecond,
      double achievedRatePerSecond,
      double pacerMaxLagMs,
      Percentiles submitToStart,
      Percentiles submitToDone,
      long negativeSamples,
      double maxWaitAfterActionMs,
      Hops hops) {}

  private final Target target;
  private final WireCodec codec;
  private final Clock clock;

  LatencyRun(Target target, WireCodec codec, Clock clock) {
    this.target = target;
    this.codec = codec;
    this.clock = clock;
  }

  Result run(String phase, int n, double rate, long deadlineNanos) {
    return run(phase, n, rate, deadlineNanos, -1, null);
  }

  /**
   * As {@link #run(String, int, double, long)}, and runs {@code action} (a fault) just before job
   * {@code actionAt} is submitted. The result's {@code maxWaitAfterActionMs} is the longest any job
   * not started by then waited to start, counted from the action or from its own submission,
   * whichever came later: how long the fault held work back.
   */
  Result run(String phase, int n, double rate, long deadlineNanos, int actionAt, Runnable action) {
    long[] actionMicros = {Long.MIN_VALUE};
    JobSet jobs = JobSet.fresh(n, clock);
    long[] submitMicros = new long[n];
    try (JobEventWatch watch = target.openEventWatch(codec, deadlineNanos);
        Submitter submitter =
            Submitter.immediate(
                target.kafkaBootstrap(), target.topics().submissions(), codec, clock)) {
      // warm the producer's metadata and connection, so the first slot is not a cold start
      submitter.warmUp();
      Pacer[] pacer = new Pacer[1];
      long[] lastSend = new long[1];
      AtomicReference<Throwable> died = new AtomicReference<>();
      Thread sender =
          new Thread(
              () -> {
                try {
                  Pacer p = Pacer.startingNow(rate);
                  Instant wall = Instant.now();
                  long wallMicros = JobSet.micros(wall);
                  long start = p.startNanos();
                  pacer[0] = p;
                  for (int i = 0; i < n; i++) {
                    long due = p.await(i);
                    if (i == actionAt && action != null) {
                      action.run();
                      actionMicros[0] = JobSet.micros(Instant.now());
                    }
                    submitMicros[i] = wallMicros + (due - start) / 1_000;
                    submitter.send(jobs.id(i));
                  }
                  lastSend[0] = System.nanoTime();
                  submitter.flush();
                } catch (Throwable e) {
                  died.set(e);
                }
              },
              "bench-pacer");
      log.info("{}: submitting {} jobs at {}/s", phase, n, rate);
      sender.setDaemon(true); // never keeps the JVM alive after a failed phase
      sender.start();
      watch.drain(
          phase,
          jobs,
          deadlineNanos,
          () -> {
            submitter.checkHealthy();
            Throwable e = died.get();
            if (e != null) {
              throw new BenchFailure(phase + ": submitting failed: " + e, e);
            }
          });
      BurnDown.join(sender, deadlineNanos, phase);
      submitter.checkHealthy();

      Histogram toStart = new Histogram(MAX_MICROS, 3);
      Histogram toDone = new Histogram(MAX_MICROS, 3);
      long negative = 0;
      for (int i = 0; i < n; i++) {
        if (jobs.terminal(i) != JobSet.DONE) {
          continue;
        }
        negative += record(toStart, jobs.startedAtMicros(i), submitMicros[i]);
        negative += record(toDone, jobs.finishedAtMicros(i), submitMicros[i]);
      }
      if (negative > 0) {
        log.warn(
            "{}: {} samples were negative (worker clock behind this machine's); counted as 0",
            phase,
            negative);
      }
      double maxWait = Double.NaN;
      if (actionMicros[0] != Long.MIN_VALUE) {
        long longest = 0;
        for (int i = 0; i < n; i++) {
          long started = jobs.startedAtMicros(i);
          if (jobs.terminal(i) == JobSet.DONE
              && started != JobSet.UNKNOWN
              && started > actionMicros[0]) {
            longest = Math.max(longest, started - Math.max(submitMicros[i], actionMicros[0]));
          }
        }
        maxWait = longest / 1e3;
      }
      double sendSeconds = BurnDown.seconds(lastSend[0] - pacer[0].startNanos());
      double achieved = n <= 1 || sendSeconds <= 0 ? rate : (n - 1) / sendSeconds;
      return new Result(
          n,
          jobs.doneCount(),
          jobs.failedCount(),
          rate,
          achieved,
          pacer[0].maxLagNanos() / 1e6,
          Percentiles.of(toStart),
          Percentiles.of(toDone),
          negative,
          maxWait,
          Hops.of(target, jobs, submitMicros));
    }
  }

  /** Returns 1 when the sample was negative (and recorded as 0). */
  private static int record(Histogram h, long eventMicros, long submitMicros) {
    if (eventMicros == JobSet.UNKNOWN) {
      return 0;
    }
    long d = eventMicros - submitMicros;
    h.recordValue(Math.min(Math.max(d, 0), MAX_MICROS));
    return d < 0 ? 1 : 0;
  }
}
