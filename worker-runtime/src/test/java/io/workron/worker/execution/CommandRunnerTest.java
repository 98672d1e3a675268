package io.workron.worker.execution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.workron.schemas.JobResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class CommandRunnerTest {

  private static final int TAIL = JobResult.MAX_OUTPUT_BYTES;

  @TempDir Path workDir;

  private CommandRunner runner() {
    return new CommandRunner(Clock.systemUTC(), workDir, TAIL);
  }

  @Test
  void aCommandIsStoppedWhenTheWorkerProcessThatStartedItIsGone() throws Exception {
    String marker = "300." + System.nanoTime() % 1_000_000;
    CommandRunner runner =
        new CommandRunner(Clock.systemUTC(), workDir, TAIL, null, Duration.ofSeconds(1));
    RunningCommand ended = runner.start("true", Map.of());
    assertThat(ended.await().exitCode()).isZero();
    RunningCommand command = runner.start("sleep " + marker + "; echo never", Map.of());
    await().atMost(Duration.ofSeconds(10)).until(() -> processesRunning("sleep " + marker) == 1);

    // what the kernel does when the worker dies, even by kill -9: its end of the pipe closes
    runner.closeWorkersEnd();

    await().atMost(Duration.ofSeconds(10)).until(() -> processesRunning("sleep " + marker) == 0);
    assertThat(command.await().output()).doesNotContain("never");
  }

  @Test
  void aRestartedWorkerStopsTheProcessGroupsItsPreviousRunLeftAndNothingElse() throws Exception {
    java.nio.file.Path ledgerFile = workDir.resolve("state").resolve("processes-w1");
    String leftover = "301." + System.nanoTime() % 1_000_000;
    String unrelated = "302." + System.nanoTime() % 1_000_000;
    Process left = new ProcessBuilder("setsid", "sleep", leftover).start();
    Process other = new ProcessBuilder("setsid", "sleep", unrelated).start();
    try {
      new ProcessLedger(ledgerFile).add(left.toHandle(), "job-1/attempt-1");
      // the same pid recorded with another start time: a reused pid, which must be left alone
      java.nio.file.Files.writeString(
          ledgerFile,
          java.nio.file.Files.readString(ledgerFile) + other.pid() + " 12345 job-2/attempt-1\n");

      int stopped = new ProcessLedger(ledgerFile).stopLeftovers(Duration.ofSeconds(1));

      assertThat(stopped).isEqualTo(1);
      assertThat(left.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(other.isAlive()).isTrue();
      assertThat(java.nio.file.Files.readString(ledgerFile)).isEmpty();
    } finally {
      left.destroyForcibly();
      other.destroyForcibly();
    }
  }

  @Test
  void aRestartedWorkerLeavesAloneTheGroupsItsPreviousRunSawEnd() throws Exception {
    java.nio.file.Path ledgerFile = workDir.resolve("state").resolve("processes-w1");
    String stillRunning = "303." + System.nanoTime() % 1_000_000;
    String forgotten = "304." + System.nanoTime() % 1_000_000;
    Process left = new ProcessBuilder("setsid", "sleep", stillRunning).start();
    Process ended = new ProcessBuilder("setsid", "sleep", forgotten).start();
    try {
      ProcessLedger previousRun = new ProcessLedger(ledgerFile);
      previousRun.add(left.toHandle(), "job-1/attempt-1");
      previousRun.add(ended.toHandle(), "job-2/attempt-1");
      // recorded as ended (its pid might even belong to someone else by now): not to be touched
      previousRun.remove(ended.pid());

      int stopped = new ProcessLedger(ledgerFile).stopLeftovers(Duration.ofSeconds(1));

      assertThat(stopped).isEqualTo(1);
      assertThat(left.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(ended.isAlive()).isTrue();
    } finally {
      left.destroyForcibly();
      ended.destroyForcibly();
    }
  }

  @Test
  void theLedgerKeepsTheLiveGroupsWhenItsJournalIsRewritten() throws Exception {
    java.nio.file.Path ledgerFile = workDir.resolve("state").resolve("processes-w1");
    String marker = "305." + System.nanoTime() % 1_000_000;
    Process left = new ProcessBuilder("setsid", "sleep", marker).start();
    Process shortOnes = new ProcessBuilder("setsid", "sleep", "306.1").start();
    try {
      ProcessLedger ledger = new ProcessLedger(ledgerFile);
      ledger.stopLeftovers(Duration.ofSeconds(1));
      ledger.add(left.toHandle(), "job-1/attempt-1");
      // many short jobs after it: the journal is rewritten on the way, the long one stays in it
      ProcessHandle self = shortOnes.toHandle();
      for (int i = 0; i < ProcessLedger.COMPACT_AFTER; i++) {
        ledger.add(self, "job-x/attempt-" + i);
        ledger.remove(self.pid());
      }
      assertThat(java.nio.file.Files.readAllLines(ledgerFile).size())
          .isLessThan(ProcessLedger.COMPACT_AFTER);

      assertThat(new ProcessLedger(ledgerFile).stopLeftovers(Duration.ofSeconds(1))).isEqualTo(1);
      assertThat(left.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(shortOnes.isAlive()).isTrue();
    } finally {
      left.destroyForcibly();
      shortOnes.destroyForcibly();
    }
  }

  /** Processes whose command line ends with {@code commandLine} (the program may be a path). */
  private static long processesRunning(String commandLine) {
    return ProcessHandle.allProcesses()
        .filter(p -> p.info().commandLine().map(c -> c.endsWith(commandLine)).orElse(false))
        .count();
  }

  @Test
  void aCommandThatReadsItsInputGetsEndOfFileAtOnce() throws Exception {
    CommandCompletion done = runner().start("cat; echo read-to-the-end", Map.of()).await();

    assertThat(done.exitCode()).isZero();
    assertThat(done.output()).isEqualTo("read-to-the-end\n");
  }

  @Test
  void theWorkersKafkaLoginAndOtherServicesSecretsAreKeptFromTheJobAndItsOwnVariablesAreNot()
      throws Exception {
    assertThat(CommandRunner.withheld("WORKRON_KAFKA_PASSWORD")).isTrue();
    assertThat(CommandRunner.withheld("WORKRON_KAFKA_USERNAME")).isTrue();
    assertThat(CommandRunner.withheld("SPRING_KAFKA_PROPERTIES_SASL_JAAS_CONFIG")).isTrue();
    assertThat(CommandRunner.withheld("SPRING_DATASOURCE_PASSWORD")).isTrue();
    assertThat(CommandRunner.withheld("WORKRON_INTERNAL_API_TOKEN")).isTrue();
    assertThat(CommandRunner.withheld("PATH")).isFalse();
    assertThat(CommandRunner.withheld("WORKRON_JOB_ID")).isFalse();
    // what the job itself asks for reaches it, even under a withheld name
    CommandCompletion done =
        runner()
            .start("echo \"$WORKRON_KAFKA_TOPIC|$PATH\"", Map.of("WORKRON_KAFKA_TOPIC", "mine"))
            .await();
    assertThat(done.output()).startsWith("mine|/");
  }

  @Test
  void runsARealShellPipeline() throws Exception {
    CommandCompletion done = runner().start("echo a | tr a b", Map.of()).await();

    assertThat(done.exitCode()).isZero();
    assertThat(done.output()).isEqualTo("b\n");
    assertThat(done.outputTruncated()).isFalse();
    assertThat(done.stopped()).isFalse();
  }

  @Test
  void reportsTheExitCodeWithStdoutAndStderrMerged() throws Exception {
    CommandCompletion done = runner().start("echo out; echo err >&2; exit 3", Map.of()).await();

    assertThat(done.exitCode()).isEqualTo(3);
    assertThat(done.output()).contains("out\n").contains("err\n");
  }

  @Test
  void keepsExactlyTheLast64KibOfALargerOutputAndFlagsTheTruncation() throws Exception {
    // 100,000 numbered lines of 7 bytes each: 700,000 bytes, far beyond the tail
    String command = "i=0; while [ $i -lt 100000 ]; do printf '%06d\\n' $i; i=$((i+1)); done";

    CommandCompletion done = runner().start(command, Map.of()).await();

    assertThat(done.exitCode()).isZero();
    assertThat(done.outputTruncated()).isTrue();
    byte[] kept = done.output().getBytes(StandardCharsets.UTF_8);
    assertThat(kept).hasSize(TAIL);
    StringBuilder all = new StringBuilder();
    for (int i = 0; i < 100_000; i++) {
      all.append(String.format("%06d%n", i));
    }
    String expected = all.substring(all.length() - TAIL);
    assertThat(done.output()).isEqualTo(expected).endsWith("099999\n");
  }

  @Test
  void keepsAllOfAnOutputThatFitsWithoutFlaggingIt() throws Exception {
    CommandCompletion done =
        runner().start("head -c 65536 /dev/zero | tr '\\0' x", Map.of()).await();

    assertThat(done.output()).hasSize(TAIL).matches("x+");
    assertThat(done.outputTruncated()).isFalse();
  }

  @Test
  void passesTheJobVariablesAndTheDispatchEnvironmentToTheCommand() throws Exception {
    Map<String, String> env =
        Map.of("WORKRON_JOB_ID", "job-1", "WORKRON_ATTEMPT", "2", "MODEL", "resnet 50");

    CommandCompletion done =
        runner()
            .start("echo \"$WORKRON_JOB_ID/$WORKRON_ATTEMPT/$MODEL/${PATH:+has-path}\"", env)
            .await();

    assertThat(done.output()).isEqualTo("job-1/2/resnet 50/has-path\n");
  }

  @Test
  void runsInTheConfiguredWorkingDirectory() throws Exception {
    CommandCompletion done = runner().start("pwd -P", Map.of()).await();

    assertThat(Path.of(done.output().strip())).isEqualTo(workDir.toRealPath());
  }

  @Test
  void refusesToStartInAMissingWorkingDirectory() {
    CommandRunner runner =
        new CommandRunner(Clock.systemUTC(), workDir.resolve("does-not-exist"), TAIL);

    assertThatThrownBy(() -> runner.start("true", Map.of())).isInstanceOf(IOException.class);
  }

  @Test
  void stoppingEndsTheShellAndTheChildrenItSpawnedLongBeforeTheyWouldFinish() throws Exception {
    RunningCommand command = runner().start("sleep 60 & echo child=$!; wait", Map.of());
    long child = awaitChildPid(command);

    long started = System.nanoTime();
    command.stop(Duration.ofSeconds(2));
    CommandCompletion done = command.await();

    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
    assertThat(done.stopped()).isTrue();
    assertThat(done.exitCode()).isNotZero();
    awaitGone(child);
  }

  @Test
  void killsACommandThatIgnoresSigtermOnceTheGraceIsOver() throws Exception {
    RunningCommand command =
        runner().start("trap '' TERM; sleep 60 & echo child=$!; wait", Map.of());
    long child = awaitChildPid(command);

    long started = System.nanoTime();
    command.stop(Duration.ofMillis(500));
    CommandCompletion done = command.await();

    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
    assertThat(done.exitCode()).isEqualTo(128 + 9);
    awaitGone(child);
  }

  /** The first line the command prints is {@code child=<pid>}; wait until it is there. */
  private static long awaitChildPid(RunningCommand command) {
    String output =
        await()
            .atMost(Duration.ofSeconds(10))
            .until(command::outputSoFar, o -> o.startsWith("child=") && o.contains("\n"));
    return Long.parseLong(output.substring("child=".length(), output.indexOf('\n')));
  }

  private static void awaitGone(long pid) {
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () -> ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false), alive -> !alive);
  }
}
