package io.workron.bench;

import io.workron.worker.execution.LaunchMechanism;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The spawn phase: how many {@code /bin/sh -c true} processes this JVM starts and waits for per
 * second, with the launch mechanism the workers use and as many at a time as the workers have
 * slots. No job system can run no-op shell jobs faster than this on the same machine: it is the
 * ceiling the burn-down is compared with.
 */
final class SpawnCeiling {

  private static final Logger log = LoggerFactory.getLogger(SpawnCeiling.class);
  private static final List<String> COMMAND = List.of("/bin/sh", "-c", "true");

  /** Unmeasured spawns first, so the JIT and the page cache are warm. */
  private static final int WARM_UP = 200;

  record Result(int processes, int threads, String launchMechanism, double seconds) {
    double perSecond() {
      return processes / seconds;
    }
  }

  Result run(int processes, int threads, long deadlineNanos) {
    String mechanism = LaunchMechanism.current();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      AtomicInteger left = new AtomicInteger(WARM_UP);
      await(submit(pool, threads, left), deadlineNanos);
      left.set(processes);
      long t0 = System.nanoTime();
      await(submit(pool, threads, left), deadlineNanos);
      double seconds = (System.nanoTime() - t0) / 1e9;
      Result r = new Result(processes, threads, mechanism, seconds);
      log.info(
          "spawn: {} x /bin/sh -c true, {} at a time ({}), in {} s = {}/s",
          processes,
          threads,
          mechanism,
          String.format("%.2f", seconds),
          String.format("%.0f", r.perSecond()));
      return r;
    } finally {
      pool.shutdownNow();
    }
  }

  private static List<Future<?>> submit(ExecutorService pool, int threads, AtomicInteger left) {
    List<Future<?>> loops = new ArrayList<>(threads);
    for (int t = 0; t < threads; t++) {
      loops.add(
          pool.submit(
              () -> {
                while (left.getAndDecrement() > 0) {
                  spawnOne();
                }
                return null;
              }));
    }
    return loops;
  }

  /** Starts the shell, reads its (empty) output to the end, as a worker does, and reaps it. */
  private static void spawnOne() throws IOException, InterruptedException {
    Process p = new ProcessBuilder(COMMAND).redirectErrorStream(true).start();
    p.getOutputStream().close();
    p.getInputStream().readAllBytes();
    int exit = p.waitFor();
    if (exit != 0) {
      throw new IOException("/bin/sh -c true exited with " + exit);
    }
  }

  private static void await(List<Future<?>> loops, long deadlineNanos) {
    for (Future<?> f : loops) {
      try {
        f.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (ExecutionException e) {
        throw new BenchFailure("spawn phase: " + e.getCause(), e.getCause());
      } catch (TimeoutException e) {
        throw new BenchFailure("spawn phase did not finish within --timeout", e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new BenchFailure("spawn phase interrupted", e);
      }
    }
  }
}
