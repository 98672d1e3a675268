package io.workron.bench;

import io.workron.schemas.WireCodec;
import java.time.Clock;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Phase 1: produce N no-op submissions as fast as Kafka takes them, while counting, on the
 * job-events topic, the jobs that reach {@code done}. The clock runs from the first send to the
 * last terminal event observed.
 */
final class BurnDown {

  private static final Logger log = LoggerFactory.getLogger(BurnDown.class);

  /**
   * @param produceSeconds first send until every submission was acknowledged by Kafka
   * @param ingestSeconds first send until every job's {@code pending} event was seen; NaN when some
   *     were never seen
   * @param seconds first send until the last job finished
   */
  record Result(
      int jobs, int done, int failed, double produceSeconds, double ingestSeconds, double seconds) {

    double jobsPerSecond() {
      return done / seconds;
    }

    double ingestJobsPerSecond() {
      return Double.isNaN(ingestSeconds) ? Double.NaN : jobs / ingestSeconds;
    }
  }

  private final Target target;
  private final WireCodec codec;
  private final Clock clock;

  BurnDown(Target target, WireCodec codec, Clock clock) {
    this.target = target;
    this.codec = codec;
    this.clock = clock;
  }

  Result run(String phase, int n, long deadlineNanos) {
    log.info("{}: preparing {} job ids", phase, n);
    return run(phase, JobSet.fresh(n, clock), deadlineNanos);
  }

  /** As {@link #run(String, int, long)}, for the jobs of {@code jobs}, which it fills in. */
  Result run(String phase, JobSet jobs, long deadlineNanos) {
    int n = jobs.size();
    try (JobEventWatch watch = target.openEventWatch(codec, deadlineNanos);
        Submitter submitter =
            Submitter.bulk(target.kafkaBootstrap(), target.topics().submissions(), codec, clock)) {
      long[] firstSend = new long[1];
      long[] allAcked = new long[1];
      AtomicReference<Throwable> producerDied = new AtomicReference<>();
      Thread producer =
          new Thread(
              () -> {
                try {
                  firstSend[0] = System.nanoTime();
                  for (int i = 0; i < n; i++) {
                    submitter.send(jobs.id(i));
                  }
                  submitter.flush();
                  allAcked[0] = System.nanoTime();
                } catch (Throwable e) {
                  producerDied.set(e);
                }
              },
              "bench-producer");
      log.info("{}: producing {} submissions", phase, n);
      producer.setDaemon(true); // never keeps the JVM alive after a failed phase
      producer.start();
      watch.drain(
          phase,
          jobs,
          deadlineNanos,
          () -> {
            submitter.checkHealthy();
            Throwable e = producerDied.get();
            if (e != null) {
              throw new BenchFailure(phase + ": producing submissions failed: " + e, e);
            }
          });
      join(producer, deadlineNanos, phase);
      submitter.checkHealthy();
      // join() makes the producer thread's writes visible here
      double produce = seconds(allAcked[0] - firstSend[0]);
      double ingest =
          jobs.pendingCount() == n ? seconds(jobs.lastPendingNanos() - firstSend[0]) : Double.NaN;
      double total = seconds(jobs.lastTerminalNanos() - firstSend[0]);
      if (jobs.failedCount() > 0) {
        log.warn("{}: {} jobs failed, first: {}", phase, jobs.failedCount(), jobs.firstFailure());
      }
      return new Result(n, jobs.doneCount(), jobs.failedCount(), produce, ingest, total);
    }
  }

  static void join(Thread thread, long deadlineNanos, String phase) {
    try {
      long left = Math.max(1, deadlineNanos - System.nanoTime());
      TimeUnit.NANOSECONDS.timedJoin(thread, left);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BenchFailure(phase + ": interrupted", e);
    }
    if (thread.isAlive()) {
      thread.interrupt();
      throw new BenchFailure(phase + ": the submitting thread did not finish before the timeout");
    }
  }

  static double seconds(long nanos) {
    return nanos / 1e9;
  }
}
