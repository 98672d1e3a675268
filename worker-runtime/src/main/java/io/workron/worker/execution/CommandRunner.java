package io.workron.worker.execution;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Starts shell commands the way every Workron job runs: {@code /bin/sh -c <command>} in a process
 * group of its own (through {@code setsid} when the machine has it), with stdout and stderr merged
 * into a bounded tail. Thread-safe.
 *
 * <p>With process groups, one watchdog per runner (a {@link Guardian}, {@code guardian.sh}) learns
 * each command's group and stops them all (SIGTERM, the orphan grace, SIGKILL) as soon as the
 * worker's process is gone, even after {@code kill -9}: the worker holds the guardian's standard
 * input open, and the kernel closes it when the worker dies. Each group is also recorded in a
 * {@link ProcessLedger}, so a restarted worker stops whatever its previous run left behind.
 */
public final class CommandRunner {

  private final Clock clock;
  private final Path workingDirectory;
  private final int outputLimitBytes;
  private final Optional<Path> setsid;
  private final ProcessLedger ledger;
  private final Duration orphanGrace;
  private final Guardian guardian;

  /**
   * @param outputLimitBytes how much of the newest output to keep per command
   */
  public CommandRunner(Clock clock, Path workingDirectory, int outputLimitBytes) {
    this(clock, workingDirectory, outputLimitBytes, null, Duration.ofSeconds(15));
  }

  /**
   * @param ledger where started process groups are recorded; null records nothing
   * @param orphanGrace how long a command orphaned by the worker's death gets between SIGTERM and
   *     SIGKILL
   */
  public CommandRunner(
      Clock clock,
      Path workingDirectory,
      int outputLimitBytes,
      ProcessLedger ledger,
      Duration orphanGrace) {
    this(clock, workingDirectory, outputLimitBytes, findSetsid(), ledger, orphanGrace);
  }

  CommandRunner(Clock clock, Path workingDirectory, int outputLimitBytes, Optional<Path> setsid) {
    this(clock, workingDirectory, outputLimitBytes, setsid, null, Duration.ofSeconds(15));
  }

  private CommandRunner(
      Clock clock,
      Path workingDirectory,
      int outputLimitBytes,
      Optional<Path> setsid,
      ProcessLedger ledger,
      Duration orphanGrace) {
    this.clock = clock;
    this.workingDirectory = workingDirectory;
    this.outputLimitBytes = outputLimitBytes;
    this.setsid = setsid;
    this.ledger = ledger;
    this.orphanGrace = orphanGrace;
    this.guardian = setsid.map(path -> new Guardian(path, orphanGrace)).orElse(null);
  }

  /**
   * Whether a variable of the worker's own environment is kept from the jobs it runs: its Kafka
   * login and client settings, and any other service's secrets a shared environment might hold. A
   * job still runs as the worker's user (docs/security.md says what that means); this keeps the
   * login out of a plain {@code env} in a job's output.
   */
  static boolean withheld(String name) {
    return name.startsWith("WORKRON_KAFKA_")
        || name.startsWith("SPRING_KAFKA_")
        || name.startsWith("SPRING_DATASOURCE_")
        || name.startsWith("WORKRON_AUTH_")
        || name.equals("WORKRON_INTERNAL_API_TOKEN")
        || name.equals("SPRING_APPLICATION_JSON");
  }

  /**
   * Starts {@code command} with the worker's environment, less what {@link #withheld} names, plus
   * {@code env}. The variables in {@code env} replace inherited ones of the same name.
   *
   * @throws IOException when the process could not be started (no shell, missing directory, …)
   */
  public RunningCommand start(String command, Map<String, String> env) throws IOException {
    return start(command, env, "");
  }

  /** As {@link #start(String, Map)}; {@code label} names the command in the ledger. */
  public RunningCommand start(String command, Map<String, String> env, String label)
      throws IOException {
    List<String> argv = new ArrayList<>(4);
    setsid.ifPresent(path -> argv.add(path.toString()));
    argv.add("/bin/sh");
    argv.add("-c");
    argv.add(command);
    ProcessBuilder builder =
        new ProcessBuilder(argv)
            .directory(workingDirectory.toFile())
            .redirectErrorStream(true)
            // a job has no input: a command that reads stdin gets end-of-file instead of hanging
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    builder.environment().keySet().removeIf(CommandRunner::withheld);
    builder.environment().putAll(env);
    Instant startedAt = clock.instant();
    if (guardian != null) {
      guardian.ready();
    }
    Process process = builder.start();
    if (guardian != null) {
      // setsid (which does not fork: a child of the JVM never leads a group) makes the shell the
      // leader of a new group, whose id is its pid
      if (ledger != null) {
        ledger.add(process.toHandle(), label);
      }
      guardian.watch(process.pid());
    }
    return new RunningCommand(
        process,
        setsid.isPresent(),
        startedAt,
        clock,
        new OutputTail(outputLimitBytes),
        guardian != null ? ledger : null,
        guardian);
  }

  /** A text resource of this package. */
  static String resource(String name) {
    try (var in = CommandRunner.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(name + " is missing from the worker's classpath");
      }
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * Closes the worker's end of the guardian's pipe, as the kernel does when the worker dies: the
   * guardian then stops every command's group. For tests of that promise.
   */
  void closeWorkersEnd() throws InterruptedException {
    if (guardian != null) {
      guardian.closeWorkersEnd();
    }
  }

  /** Whether stopping a command reaches its whole process group, not only the shell. */
  public boolean isolatesProcessGroups() {
    return setsid.isPresent();
  }

  private static Optional<Path> findSetsid() {
    List<Path> candidates = new ArrayList<>();
    candidates.add(Path.of("/usr/bin/setsid"));
    String pathVariable = System.getenv("PATH");
    if (pathVariable != null) {
      for (String dir : pathVariable.split(File.pathSeparator)) {
        if (!dir.isEmpty()) {
          candidates.add(Path.of(dir, "setsid"));
        }
      }
    }
    return candidates.stream().filter(Files::isExecutable).findFirst();
  }
}
