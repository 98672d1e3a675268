package io.workron.bench;

import io.workron.schemas.Ids;
import io.workron.schemas.JobEvent;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The jobs one phase submits and what the job-events topic has said about them so far. Ids are
 * fixed before anything is produced, so the event consumer only has to look them up. Not
 * thread-safe: one thread (the event consumer) applies events, others read after it is done.
 */
final class JobSet {

  static final byte NONE = 0;
  static final byte DONE = 1;
  static final byte FAILED = 2;

  /** No time recorded. */
  static final long UNKNOWN = Long.MIN_VALUE;

  private final List<String> ids;
  private final Map<String, Integer> index;
  private final boolean[] pendingSeen;
  private final byte[] terminal;
  private final long[] startedAtMicros;
  private final long[] finishedAtMicros;
  private int pendingCount;
  private int doneCount;
  private int failedCount;
  private long lastPendingNanos = UNKNOWN;
  private long lastTerminalNanos = UNKNOWN;
  private String firstFailure;

  JobSet(List<String> ids) {
    this.ids = List.copyOf(ids);
    this.index = new HashMap<>(ids.size() * 2);
    for (int i = 0; i < ids.size(); i++) {
      if (index.put(ids.get(i), i) != null) {
        throw new IllegalArgumentException("duplicate job id " + ids.get(i));
      }
    }
    int n = ids.size();
    pendingSeen = new boolean[n];
    terminal = new byte[n];
    startedAtMicros = new long[n];
    finishedAtMicros = new long[n];
    Arrays.fill(startedAtMicros, UNKNOWN);
    Arrays.fill(finishedAtMicros, UNKNOWN);
  }

  /** {@code n} fresh, time-ordered job ids of the kind the gateway generates. */
  static JobSet fresh(int n, Clock clock) {
    List<String> ids = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      ids.add(Ids.newJobId(clock));
    }
    return new JobSet(ids);
  }

  int size() {
    return ids.size();
  }

  String id(int i) {
    return ids.get(i);
  }

  /** The position of {@code jobId} in this set, or -1 when it is someone else's job. */
  int indexOf(String jobId) {
    Integer i = jobId == null ? null : index.get(jobId);
    return i == null ? -1 : i;
  }

  /**
   * Records one lifecycle event for job {@code i}, observed at {@code nowNanos}. Duplicates and
   * events after the job's terminal one change nothing.
   */
  void apply(int i, JobEvent event, long nowNanos) {
    String status = event.status() == null ? "" : event.status();
    switch (status) {
      case "pending" -> {
        if (!pendingSeen[i]) {
          pendingSeen[i] = true;
          pendingCount++;
          lastPendingNanos = nowNanos;
        }
      }
      case "done" -> {
        if (terminal[i] == NONE) {
          terminal[i] = DONE;
          doneCount++;
          lastTerminalNanos = nowNanos;
          startedAtMicros[i] = micros(event.startedAt());
          finishedAtMicros[i] = micros(event.finishedAt());
        }
      }
      case "failed", "cancelled" -> {
        if (terminal[i] == NONE) {
          terminal[i] = FAILED;
          failedCount++;
          lastTerminalNanos = nowNanos;
          if (firstFailure == null) {
            firstFailure =
                ids.get(i)
                    + " "
                    + status
                    + (event.reason() == null ? "" : ": " + event.reason())
                    + (event.exitCode() == null ? "" : " (exit code " + event.exitCode() + ")");
          }
        }
      }
      default -> {
        // running, reserved, ...: not needed for any number reported
      }
    }
  }

  static long micros(Instant t) {
    return t == null
        ? UNKNOWN
        : Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1_000);
  }

  int pendingCount() {
    return pendingCount;
  }

  int doneCount() {
    return doneCount;
  }

  int failedCount() {
    return failedCount;
  }

  int terminalCount() {
    return doneCount + failedCount;
  }

  boolean allTerminal() {
    return terminalCount() == size();
  }

  /** When the last new {@code pending} was observed, or {@link #UNKNOWN}. */
  long lastPendingNanos() {
    return lastPendingNanos;
  }

  /** When the last job reached a terminal status, as observed by the consumer. */
  long lastTerminalNanos() {
    return lastTerminalNanos;
  }

  /** The first failure seen, for the report; null when none failed. */
  String firstFailure() {
    return firstFailure;
  }

  byte terminal(int i) {
    return terminal[i];
  }

  long startedAtMicros(int i) {
    return startedAtMicros[i];
  }

  long finishedAtMicros(int i) {
    return finishedAtMicros[i];
  }
}
