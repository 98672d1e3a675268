package io.workron.worker.execution;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Starts shell commands the way every Workron job runs: {@code /bin/sh -c <command>} in a process
 * group of its own (through {@code setsid} when the machine has it), with stdout and stderr merged
 * into a bounded tail. Holds no state per command; thread-safe.
 */
public final class CommandRunner {

  private final Clock clock;
  private final Path workingDirectory;
  private final int outputLimitBytes;
  private final Optional<Path> setsid;

  /**
   * @param outputLimitBytes how much of the newest output to keep per command
   */
  public CommandRunner(Clock clock, Path workingDirectory, int outputLimitBytes) {
    this(clock, workingDirectory, outputLimitBytes, findSetsid());
  }

  CommandRunner(Clock clock, Path workingDirectory, int outputLimitBytes, Optional<Path> setsid) {
    this.clock = clock;
    this.workingDirectory = workingDirectory;
    this.outputLimitBytes = outputLimitBytes;
    this.setsid = setsid;
  }

  /**
   * Starts {@code command} with the worker's environment plus {@code env}. The variables in {@code
   * env} replace inherited ones of the same name.
   *
   * @throws IOException when the process could not be started (no shell, missing directory, …)
   */
  public RunningCommand start(String command, Map<String, String> env) throws IOException {
    List<String> argv = new ArrayList<>(4);
    setsid.ifPresent(path -> argv.add(path.toString()));
    argv.add("/bin/sh");
    argv.add("-c");
    argv.add(command);
    ProcessBuilder builder =
        new ProcessBuilder(argv).directory(workingDirectory.toFile()).redirectErrorStream(true);
    builder.environment().putAll(env);
    Instant startedAt = clock.instant();
    Process process = builder.start();
    return new RunningCommand(
        process, setsid.isPresent(), startedAt, clock, new OutputTail(outputLimitBytes));
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
