package io.workron.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Runs the whole bench in-process, tiny, against a standalone stack it starts itself. */
class BenchIT {

  @TempDir Path tmp;

  @Test
  @Timeout(600)
  void aTinyRunMeasuresEveryPhaseAndEveryJobIsDone() throws Exception {
    Path output = tmp.resolve("results/bench.jsonl");
    Run bench =
        run(
            "--jobs", "300",
            "--latency-jobs", "100",
            "--rates", "50,50%",
            "--spawn-processes", "300",
            "--warmup-jobs", "20",
            "--preload-finished", "3000",
            "--preload-backlog", "500",
            "--pin-horizon", "3s",
            "--timeout", "3m",
            "--output", output.toString());

    String err = bench.err();
    assertThat(bench.exit()).as("exit code; stderr:%n%s", err).isZero();
    List<String> lines = bench.out().lines().toList();
    assertThat(lines).as("stdout holds exactly the JSON line").hasSize(1);
    JsonNode json = JsonMapper.builder().build().readTree(lines.get(0));

    assertThat(json.path("bench").asString()).isEqualTo("workron");
    assertThat(json.path("jobs").asInt()).isEqualTo(300);
    int pinnedJobs = json.path("pinned_jobs").asInt();
    assertThat(pinnedJobs).isGreaterThanOrEqualTo(300);
    // burn-down, two latency runs, the pinned burn-down and the one after it
    assertThat(json.path("done").asInt()).isEqualTo(300 + 2 * 100 + pinnedJobs + 300);
    assertThat(json.path("preload_finished").asLong()).isEqualTo(3000);
    assertThat(json.path("preload_backlog").asLong()).isEqualTo(500);
    assertThat(json.path("preload_backlog_pending_at_end").asLong())
        .as("the paused backlog stays pending")
        .isEqualTo(500);
    assertThat(json.path("pin_horizon_seconds").asDouble()).isGreaterThanOrEqualTo(3.0);
    assertThat(json.path("pinned_done_in_window").asLong()).isPositive();
    assertThat(json.path("pinned_burn_down_jobs_per_s").asDouble()).isPositive();
    assertThat(json.path("pinned_dead_tuples").has("jobs")).isTrue();
    assertThat(json.path("after_pin_burn_down_jobs_per_s").asDouble()).isPositive();
    assertThat(json.path("after_pin_ratio_to_clean").asDouble())
        .isCloseTo(
            json.path("after_pin_burn_down_jobs_per_s").asDouble()
                / json.path("burn_down_jobs_per_s").asDouble(),
            org.assertj.core.api.Assertions.within(0.01));
    assertThat(json.path("failed").asInt()).isZero();
    assertThat(json.path("workers").asInt()).isEqualTo(2);
    assertThat(json.path("slots").asInt()).isEqualTo(16);

    assertThat(json.path("burn_down_jobs_per_s").asDouble()).isPositive();
    assertThat(json.path("burn_down_seconds").asDouble()).isPositive();
    assertThat(json.path("spawn_per_s").asDouble()).isPositive();
    assertThat(json.path("spawn_threads").asInt()).isEqualTo(2 * 16);
    assertThat(json.path("ratio_to_spawn_ceiling").asDouble())
        .isCloseTo(
            json.path("burn_down_jobs_per_s").asDouble() / json.path("spawn_per_s").asDouble(),
            org.assertj.core.api.Assertions.within(0.001));
    JsonNode runs = json.path("latency_runs");
    assertThat(runs).hasSize(2);
    assertThat(runs.get(0).path("rate_per_s").asDouble()).isEqualTo(50.0);
    // the second rate is half of this run's burn-down rate
    assertThat(runs.get(1).path("rate_per_s").asDouble())
        .isCloseTo(
            json.path("burn_down_jobs_per_s").asDouble() / 2,
            org.assertj.core.api.Assertions.within(0.1));
    for (JsonNode run : runs) {
      for (String latency : List.of("submit_to_start_ms", "submit_to_done_ms")) {
        JsonNode p = run.path(latency);
        assertThat(p.path("p50").asDouble()).as(latency + ".p50").isPositive();
        assertThat(p.path("p99").asDouble())
            .as(latency + ".p99")
            .isGreaterThanOrEqualTo(p.path("p50").asDouble());
        assertThat(p.path("max").asDouble())
            .as(latency + ".max")
            .isGreaterThanOrEqualTo(p.path("p99").asDouble());
      }
      assertThat(run.path("submit_to_done_ms").path("p50").asDouble())
          .isGreaterThanOrEqualTo(run.path("submit_to_start_ms").path("p50").asDouble());
      // the hops are parts of each job's submit→start: none is longer than the longest whole
      double whole = run.path("submit_to_start_ms").path("max").asDouble();
      JsonNode hops = run.path("submit_to_start_hops");
      for (String hop :
          List.of("submit_to_stored_ms", "stored_to_claimed_ms", "claimed_to_started_ms")) {
        JsonNode p = hops.path(hop);
        assertThat(p.path("p50").isNumber()).as(hop + " measured").isTrue();
        assertThat(p.path("max").asDouble()).as(hop + ".max").isLessThanOrEqualTo(whole * 1.01);
      }
      assertThat(hops.path("claimed_to_started_ms").path("p50").asDouble())
          .as("a command starts after its dispatch")
          .isPositive();
    }
    assertThat(json.path("yardstick_skip_locked_rows_per_s").asDouble()).isPositive();
    assertThat(json.path("ratio_to_yardstick").asDouble()).isPositive();

    assertThat(Files.readAllLines(output)).containsExactly(lines.get(0));
    assertThat(err)
        .contains(
            "spawn",
            "burn-down",
            "submit→start",
            "yardstick",
            "spawn ceiling",
            "preload",
            "pinned");
  }

  @Test
  @Timeout(600)
  void asProcessesItReportsMemoryPerServiceAndLosesNoJobWhenAReplicaIsKilled() throws Exception {
    Run bench =
        run(
            "--services",
            "processes",
            "--schedulers",
            "2",
            "--kill-scheduler",
            "--workers",
            "1",
            "--slots",
            "4",
            "--phases",
            "burndown",
            "--jobs",
            "100",
            "--latency-jobs",
            "100",
            "--warmup-jobs",
            "10",
            "--timeout",
            "4m");

    String err = bench.err();
    assertThat(bench.exit()).as("exit code; stderr:%n%s", err).isZero();
    JsonNode json = JsonMapper.builder().build().readTree(bench.out());
    assertThat(json.path("services").asString()).isEqualTo("processes");
    assertThat(json.path("schedulers").asInt()).isEqualTo(2);
    // every job of the burn-down and of the run during which a replica was killed is done
    assertThat(json.path("done").asInt()).isEqualTo(100 + 100);
    assertThat(json.path("failed").asInt()).isZero();

    List<String> names = new java.util.ArrayList<>();
    for (JsonNode m : json.path("memory")) {
      names.add(m.path("service").asString());
      assertThat(m.path("rss_idle_mib").asDouble()).as("idle RSS of " + m).isPositive();
      assertThat(m.path("rss_burn_down_max_mib").asDouble()).as("RSS of " + m).isPositive();
      assertThat(m.path("heap_used_after_burn_down_mib").asDouble())
          .as("heap of " + m)
          .isPositive();
      assertThat(m.path("heap_committed_after_burn_down_mib").asDouble())
          .isGreaterThanOrEqualTo(m.path("heap_used_after_burn_down_mib").asDouble());
      assertThat(m.path("jvm_flags")).as("flags of " + m).isNotEmpty();
    }
    assertThat(names)
        .containsExactly("scheduler-core-1", "scheduler-core-2", "api-gateway", "bench-worker-1");

    JsonNode failover = json.path("failover");
    assertThat(failover.path("killed").asString()).isEqualTo("scheduler-core-2");
    assertThat(failover.path("max_wait_after_kill_ms").asDouble()).isPositive();
    assertThat(err).contains("memory", "failover");
  }

  /** What one bench run printed, and its exit code. */
  private record Run(int exit, String out, String err) {}

  /** Runs the bench in this JVM with {@code args}, capturing stdout and stderr. */
  private static Run run(String... args) {
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    Bench bench =
        new Bench(
            new PrintStream(stdout, true, StandardCharsets.UTF_8),
            new PrintStream(stderr, true, StandardCharsets.UTF_8));
    int exit = Bench.commandLine(bench).execute(args);
    return new Run(
        exit, stdout.toString(StandardCharsets.UTF_8), stderr.toString(StandardCharsets.UTF_8));
  }
}
