package io.workron.bench;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.json.JsonMapper;

/** The one JSON line a run prints, and the readable summary beside it. */
final class Report {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final Map<String, Object> fields = new LinkedHashMap<>();
  private final StringBuilder summary = new StringBuilder();

  Report(
      Instant timestamp,
      Target target,
      Integer workers,
      Integer slots,
      List<String> phases,
      int warmupJobs,
      SpawnCeiling.Result spawn,
      BurnDown.Result burnDown,
      List<LatencyRun.Result> latency,
      Yardstick.Result yardstick,
      Preload.Result preload,
      HorizonPin.Result pinned,
      String services,
      Integer schedulers,
      List<Memory.Usage> memory,
      LatencyRun.Result failover,
      PageTimes.Result pages) {
    fields.put("bench", "workron");
    fields.put("timestamp", timestamp.toString());
    fields.put(
        "target",
        target.processes() != null ? "processes" : target.embedded() ? "standalone" : "external");
    fields.put("phases", phases);
    fields.put("services", services);
    fields.put("schedulers", schedulers);
    fields.put("workers", workers);
    fields.put("slots", slots);
    fields.put("cores", Runtime.getRuntime().availableProcessors());
    fields.put("java", System.getProperty("java.version"));
    fields.put("stack_start_seconds", round(target.startSeconds(), 2));
    fields.put("warmup_jobs", warmupJobs);
    fields.put("preload_finished", preload == null ? 0 : preload.finished());
    fields.put("preload_backlog", preload == null ? 0 : preload.backlog());
    fields.put("preload_seconds", preload == null ? null : round(preload.seconds(), 1));
    fields.put(
        "preload_backlog_pending_at_end", preload == null ? null : preload.backlogPendingAtEnd());

    fields.put("spawn_per_s", spawn == null ? null : round(spawn.perSecond(), 1));
    fields.put("spawn_processes", spawn == null ? null : spawn.processes());
    fields.put("spawn_threads", spawn == null ? null : spawn.threads());
    fields.put(
        "launch_mechanism",
        spawn == null ? null : io.workron.worker.execution.LaunchMechanism.current());

    fields.put("jobs", burnDown == null ? null : burnDown.jobs());
    fields.put(
        "burn_down_jobs_per_s", burnDown == null ? null : round(burnDown.jobsPerSecond(), 1));
    fields.put("burn_down_seconds", burnDown == null ? null : round(burnDown.seconds(), 3));
    fields.put("produce_seconds", burnDown == null ? null : round(burnDown.produceSeconds(), 3));
    fields.put("ingest_seconds", burnDown == null ? null : round(burnDown.ingestSeconds(), 3));
    fields.put(
        "ingest_jobs_per_s", burnDown == null ? null : round(burnDown.ingestJobsPerSecond(), 1));

    List<Map<String, Object>> runs = new java.util.ArrayList<>();
    for (LatencyRun.Result l : latency) {
      Map<String, Object> run = new LinkedHashMap<>();
      run.put("jobs", l.jobs());
      run.put("rate_per_s", round(l.ratePerSecond(), 1));
      run.put("achieved_rate_per_s", round(l.achievedRatePerSecond(), 1));
      run.put("pacer_max_lag_ms", round(l.pacerMaxLagMs(), 3));
      run.put("submit_to_start_ms", l.submitToStart().toJson());
      run.put("submit_to_done_ms", l.submitToDone().toJson());
      run.put("submit_to_start_hops", l.hops() == null ? null : l.hops().json());
      runs.add(run);
    }
    fields.put("latency_runs", runs.isEmpty() ? null : runs);

    if (pinned != null) {
      double clean = burnDown.jobsPerSecond();
      fields.put("pin_horizon_seconds", round(pinned.windowSeconds(), 1));
      fields.put("pinned_jobs", pinned.burnDown().jobs());
      fields.put("pinned_done_in_window", pinned.doneInWindow());
      fields.put("pinned_burn_down_jobs_per_s", round(pinned.pinnedJobsPerSecond(), 1));
      fields.put("pinned_ratio_to_clean", round(pinned.pinnedJobsPerSecond() / clean, 4));
      fields.put("pinned_dead_tuples", pinned.deadTuples());
      fields.put("after_pin_burn_down_jobs_per_s", round(pinned.after().jobsPerSecond(), 1));
      fields.put("after_pin_ratio_to_clean", round(pinned.after().jobsPerSecond() / clean, 4));
    }
    fields.put("memory", memory == null ? null : memory.stream().map(Memory.Usage::json).toList());
    if (failover != null) {
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("killed", "scheduler-core-2");
      f.put("jobs", failover.jobs());
      f.put("rate_per_s", round(failover.ratePerSecond(), 1));
      f.put("max_wait_after_kill_ms", round(failover.maxWaitAfterActionMs(), 1));
      f.put("submit_to_start_ms", failover.submitToStart().toJson());
      fields.put("failover", f);
    }
    if (pages != null) {
      List<Map<String, Object>> list = new java.util.ArrayList<>();
      double slowest = 0;
      for (PageTimes.Page p : pages.pages()) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("page", p.name());
        m.put("path", p.path());
        m.put("status", p.status());
        m.put("p50_ms", round(p.p50(), 1));
        m.put("p95_ms", round(p.p95(), 1));
        m.put("max_ms", round(p.max(), 1));
        list.add(m);
        slowest = Math.max(slowest, p.p95());
      }
      fields.put("pages", list);
      fields.put("pages_requests_each", pages.requestsPerPage());
      fields.put("pages_slowest_p95_ms", round(slowest, 1));
    }
    fields.put(
        "yardstick_skip_locked_rows_per_s",
        yardstick == null ? null : round(yardstick.rowsPerSecond(), 1));
    fields.put("yardstick_rows", yardstick == null ? null : yardstick.rows());
    fields.put("yardstick_seconds", yardstick == null ? null : round(yardstick.seconds(), 3));
    fields.put("yardstick_threads", yardstick == null ? null : yardstick.threads());
    fields.put("yardstick_batch", yardstick == null ? null : yardstick.batch());
    fields.put(
        "ratio_to_yardstick",
        burnDown == null || yardstick == null
            ? null
            : round(burnDown.jobsPerSecond() / yardstick.rowsPerSecond(), 4));
    fields.put(
        "ratio_to_spawn_ceiling",
        burnDown == null || spawn == null
            ? null
            : round(burnDown.jobsPerSecond() / spawn.perSecond(), 4));

    int done = 0;
    int failed = 0;
    if (burnDown != null) {
      done += burnDown.done();
      failed += burnDown.failed();
    }
    for (LatencyRun.Result l : latency) {
      done += l.done();
      failed += l.failed();
    }
    if (failover != null) {
      done += failover.done();
      failed += failover.failed();
    }
    if (pinned != null) {
      // every job of the pinned burn-down finished (the phase waits for all), and those after it
      done += pinned.burnDown().done() + pinned.after().done();
      failed += pinned.burnDown().failed() + pinned.after().failed();
    }
    fields.put("done", done);
    fields.put("failed", failed);

    summarize(target, workers, slots, spawn, burnDown, latency, yardstick, failed);
    if (memory != null) {
      for (Memory.Usage m : memory) {
        line(
            "memory      %-18s RSS idle %.0f MiB, burn-down max %.0f MiB; heap after %.0f MiB used"
                + " of %.0f MiB",
            m.name(),
            m.rssIdleMiB(),
            m.rssLoadMaxMiB(),
            m.heapUsedAfterMiB(),
            m.heapCommittedAfterMiB());
      }
    }
    if (failover != null) {
      line(
          "failover    kill -9 scheduler-core-2 halfway through %,d jobs at %.0f/s: work held back"
              + " up to %.0f ms; submit→start %s",
          failover.jobs(),
          failover.ratePerSecond(),
          failover.maxWaitAfterActionMs(),
          describe(failover.submitToStart()));
    }
    if (pages != null) {
      for (PageTimes.Page p : pages.pages()) {
        line(
            "page        %-20s %d  p50 %6.1f ms  p95 %6.1f ms  max %6.1f ms",
            p.name(), p.status(), p.p50(), p.p95(), p.max());
      }
    }
    if (preload != null) {
      line(
          "preload     %,d finished and %,d backlog jobs written first, in %.1f s",
          preload.finished(), preload.backlog(), preload.seconds());
    }
    if (pinned != null) {
      line(
          "pinned      %.0f s idle REPEATABLE READ: %,d jobs done inside it = %,.0f jobs/s"
              + " (%.2f of clean); dead rows then %s",
          pinned.windowSeconds(),
          pinned.doneInWindow(),
          pinned.pinnedJobsPerSecond(),
          pinned.pinnedJobsPerSecond() / burnDown.jobsPerSecond(),
          pinned.deadTuples());
      line(
          "            after it: %,d jobs in %.2f s = %,.0f jobs/s (%.2f of clean)",
          pinned.after().done(),
          pinned.after().seconds(),
          pinned.after().jobsPerSecond(),
          pinned.after().jobsPerSecond() / burnDown.jobsPerSecond());
    }
  }

  private void summarize(
      Target target,
      Integer workers,
      Integer slots,
      SpawnCeiling.Result sp,
      BurnDown.Result b,
      List<LatencyRun.Result> latency,
      Yardstick.Result y,
      int failed) {
    line(
        "workron bench — %s, %s workers x %s slots, %d cores",
        target.processes() != null
            ? "services as processes"
            : target.embedded() ? "standalone stack" : "external stack",
        workers == null ? "?" : workers,
        slots == null ? "?" : slots,
        Runtime.getRuntime().availableProcessors());
    if (sp != null) {
      line(
          "spawn       %,d x /bin/sh -c true, %d at a time (%s): %,.0f/s",
          sp.processes(), sp.threads(), sp.launchMechanism(), sp.perSecond());
    }
    if (b != null) {
      line(
          "burn-down   %,d no-op jobs in %.2f s = %,.0f jobs/s",
          b.done(), b.seconds(), b.jobsPerSecond());
      line(
          "            produced in %.2f s; all pending after %s",
          b.produceSeconds(),
          Double.isNaN(b.ingestSeconds())
              ? "n/a (not every pending event was seen)"
              : String.format(
                  "%.2f s (%,.0f jobs/s ingested)", b.ingestSeconds(), b.ingestJobsPerSecond()));
    }
    for (LatencyRun.Result l : latency) {
      line(
          "latency     %,d jobs at %.0f/s (achieved %.1f/s, pacer max lag %.1f ms)",
          l.jobs(), l.ratePerSecond(), l.achievedRatePerSecond(), l.pacerMaxLagMs());
      line("            submit→start  %s", describe(l.submitToStart()));
      if (l.hops() != null) {
        line("              submit→stored   %s", describe(l.hops().submitToStored()));
        line("              stored→claimed  %s", describe(l.hops().storedToClaimed()));
        line("              claimed→started %s", describe(l.hops().claimedToStarted()));
      }
      line("            submit→done   %s", describe(l.submitToDone()));
    }
    if (y != null) {
      line(
          "yardstick   SKIP LOCKED claim+complete, %d threads x batch %d: %,d rows in %.2f s = %,.0f rows/s",
          y.threads(), y.batch(), y.rows(), y.seconds(), y.rowsPerSecond());
    }
    if (b != null && y != null) {
      line(
          "ratio       Workron burn-down / yardstick = %.3f",
          b.jobsPerSecond() / y.rowsPerSecond());
    }
    if (b != null && sp != null) {
      line(
          "ratio       Workron burn-down / spawn ceiling = %.3f",
          b.jobsPerSecond() / sp.perSecond());
    }
    line("failed      %d", failed);
  }

  private static String describe(Percentiles p) {
    return String.format(
        "p50 %.1f ms  p95 %.1f ms  p99 %.1f ms  max %.1f ms", p.p50(), p.p95(), p.p99(), p.max());
  }

  private void line(String format, Object... args) {
    summary.append(String.format(format, args)).append('\n');
  }

  /** Finite numbers rounded to {@code digits} decimals; NaN and infinities become null. */
  static Double round(double value, int digits) {
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      return null;
    }
    return BigDecimal.valueOf(value).setScale(digits, RoundingMode.HALF_UP).doubleValue();
  }

  String json() {
    return JSON.writeValueAsString(fields);
  }

  String summary() {
    return summary.toString();
  }

  Map<String, Object> fields() {
    return fields;
  }
}
