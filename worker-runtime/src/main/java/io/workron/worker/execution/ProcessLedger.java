package io.workron.worker.execution;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process groups this worker's commands run in, kept in a file in the work dir (one line per
 * group: its leader's pid, the leader's start time, what it runs), so that a worker that restarts
 * after a crash can stop what its previous incarnation left running. Start times guard against pid
 * reuse: a process is signalled only if it is the very process that was recorded.
 */
public final class ProcessLedger {

  private static final Logger log = LoggerFactory.getLogger(ProcessLedger.class);

  private final Path file;
  private final Map<Long, String> lines = new LinkedHashMap<>();

  /** A ledger in {@code file}, which is created (with its directory) when first written. */
  public ProcessLedger(Path file) {
    this.file = file;
  }

  /** Records a started group. */
  synchronized void add(ProcessHandle leader, String label) {
    Optional<Instant> started = leader.info().startInstant();
    lines.put(
        leader.pid(),
        leader.pid()
            + " "
            + started.map(Instant::toEpochMilli).orElse(-1L)
            + " "
            + label.replaceAll("\\s+", "_"));
    write();
  }

  /** Forgets a group whose leader has exited. */
  synchronized void remove(long pid) {
    if (lines.remove(pid) != null) {
      write();
    }
  }

  /**
   * Stops every recorded group whose leader is still the recorded process (SIGTERM, {@code grace},
   * SIGKILL) and empties the ledger. Called once, before this worker runs anything.
   *
   * @return how many groups were stopped
   */
  public synchronized int stopLeftovers(Duration grace) {
    List<ProcessHandle> leftovers = new ArrayList<>();
    if (Files.isRegularFile(file)) {
      try {
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
          String[] parts = line.trim().split(" ", 3);
          if (parts.length < 2) {
            continue;
          }
          long pid = Long.parseLong(parts[0]);
          long startedAt = Long.parseLong(parts[1]);
          ProcessHandle.of(pid)
              .filter(
                  p ->
                      startedAt > 0
                          && p.info()
                              .startInstant()
                              .map(i -> i.toEpochMilli() == startedAt)
                              .orElse(false))
              .ifPresentOrElse(
                  p -> {
                    log.warn(
                        "stopping process group {} left running by a previous run of this worker:"
                            + " {}",
                        pid,
                        parts.length > 2 ? parts[2] : "");
                    leftovers.add(p);
                  },
                  () -> log.debug("recorded process {} is gone (or its pid was reused)", pid));
        }
      } catch (IOException | RuntimeException e) {
        log.warn("could not read the process ledger {}: {}", file, e.toString());
      }
    }
    for (ProcessHandle p : leftovers) {
      signalGroup("TERM", p.pid());
    }
    long deadline = System.nanoTime() + grace.toNanos();
    for (ProcessHandle p : leftovers) {
      try {
        p.onExit().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (Exception e) {
        // still there after the grace: killed below
      }
      signalGroup("KILL", p.pid());
    }
    lines.clear();
    write();
    return leftovers.size();
  }

  /** {@code kill -<signal> -<pgid>} through the shell's builtin. */
  static void signalGroup(String signal, long pgid) {
    try {
      Process kill =
          new ProcessBuilder("/bin/sh", "-c", "kill -" + signal + " -" + pgid + " 2>/dev/null")
              .redirectErrorStream(true)
              .start();
      kill.getInputStream().readAllBytes();
      kill.waitFor(5, TimeUnit.SECONDS);
    } catch (IOException e) {
      log.warn("could not send SIG{} to process group {}: {}", signal, pgid, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void write() {
    try {
      Files.createDirectories(file.getParent());
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.write(tmp, lines.values(), StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      // best effort: without it a restart cannot clean up, but the watchdog still does
      log.warn("could not write the process ledger {}: {}", file, e.toString());
    }
  }
}
