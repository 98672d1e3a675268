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
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    Path output = tmp.resolve("results/bench.jsonl");
    Bench bench =
        new Bench(
            new PrintStream(stdout, true, StandardCharsets.UTF_8),
            new PrintStream(stderr, true, StandardCharsets.UTF_8));

    int exit =
        Bench.commandLine(bench)
            .execute(
                "--jobs", "300",
                "--latency-jobs", "100",
                "--rates", "50,50%",
                "--spawn-processes", "300",
                "--warmup-jobs", "20",
                "--timeout", "3m",
                "--output", output.toString());

    String err = stderr.toString(StandardCharsets.UTF_8);
    assertThat(exit).as("exit code; stderr:%n%s", err).isZero();
    List<String> lines = stdout.toString(StandardCharsets.UTF_8).lines().toList();
    assertThat(lines).as("stdout holds exactly the JSON line").hasSize(1);
    JsonNode json = JsonMapper.builder().build().readTree(lines.get(0));

    assertThat(json.path("bench").asString()).isEqualTo("workron");
    assertThat(json.path("jobs").asInt()).isEqualTo(300);
    assertThat(json.path("done").asInt()).isEqualTo(300 + 2 * 100);
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
    }
    assertThat(json.path("yardstick_skip_locked_rows_per_s").asDouble()).isPositive();
    assertThat(json.path("ratio_to_yardstick").asDouble()).isPositive();

    assertThat(Files.readAllLines(output)).containsExactly(lines.get(0));
    assertThat(err).contains("spawn", "burn-down", "submit→start", "yardstick", "spawn ceiling");
  }
}
