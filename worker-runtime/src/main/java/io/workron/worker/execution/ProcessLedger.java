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
 * The process groups this worker's commands run in, kept in a file in the work dir, so that a
 * worker that restarts after a crash can stop what its previous incarnation left running. Start
 * times guard against pid reuse: a process is signalled only if it is the very process that was
 * recorded.
 *
 * <p>The file is a journal, appended to with one write per change: {@code <pid> <start millis>
 * <label>} when a group starts, {@code -<pid>} when it has ended. It is rewritten with only the
 * live groups once it holds {@link #COMPACT_AFTER} lines. (Rewriting the whole file and renaming it
 * over the old one for every start and every end cost two file creations per job.)
 */
public final class ProcessLedger {

  private static final Logger log = LoggerFactory.getLogger(ProcessLedger.class);

  /** Lines the journal may hold before it is rewritten with the live groups only. */
  static final int COMPACT_AFTER = 4096;

  private final Path file;
  private final Map<Long, String> lines = new LinkedHashMap<>();
  private java.io.OutputStream journal;
  private int journalLines;

  /** A ledger in {@code file}, which is created (with its directory) when first written. */
  public ProcessLedger(Path file) {
    this.file = file;
  }

  /** Records a started group. */
  synchronized void add(ProcessHandle leader, String label) {
    Optional<Instant> started = leader.info().startInstant();
    String line =
        leader.pid()
            + " "
            + started.map(Instant::toEpochMilli).orElse(-1L)
            + " "
            + label.replaceAll("\\s+", "_");
    lines.put(leader.pid(), line);
    append(line);
  }

  /** Forgets a group whose leader has exited. */
  synchronized void remove(long pid) {
    if (lines.remove(pid) != null) {
      append("-" + pid);
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
        Map<Long, String[]> recorded = new LinkedHashMap<>();
        // a journal cut short (a full disk, a crash mid-write) ends in a partial line, and a
        // partial label may not even be UTF-8: every line that parses still counts
        String journal = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        for (String line : journal.split("\n")) {
          String trimmed = line.trim();
          try {
            if (trimmed.startsWith("-")) {
              recorded.remove(Long.parseLong(trimmed.substring(1)));
              continue;
            }
            String[] parts = trimmed.split(" ", 3);
            if (parts.length >= 2) {
              Long.parseLong(parts[1]);
              recorded.put(Long.parseLong(parts[0]), parts);
            }
          } catch (NumberFormatException e) {
            log.warn("skipping an unreadable line of the process ledger {}: {}", file, trimmed);
          }
        }
        for (String[] parts : recorded.values()) {
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

  /** One line at the end of the journal; the whole journal rewritten when it grew long. */
  private void append(String line) {
    if (journal == null || journalLines >= COMPACT_AFTER) {
      write();
      return;
    }
    try {
      journal.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      journalLines++;
    } catch (IOException e) {
      // best effort: without it a restart cannot clean up, but the watchdog still does
      log.warn("could not write the process ledger {}: {}", file, e.toString());
      closeJournal();
    }
  }

  /** Rewrites the journal with the live groups only, and appends to it from then on. */
  private void write() {
    closeJournal();
    try {
      Files.createDirectories(file.getParent());
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.write(tmp, lines.values(), StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      journal =
          Files.newOutputStream(
              file,
              java.nio.file.StandardOpenOption.WRITE,
              java.nio.file.StandardOpenOption.APPEND);
      journalLines = lines.size();
    } catch (IOException e) {
      // best effort: without it a restart cannot clean up, but the watchdog still does
      log.warn("could not write the process ledger {}: {}", file, e.toString());
    }
  }

  private void closeJournal() {
    if (journal != null) {
      try {
        journal.close();
      } catch (IOException ignored) {
        // the next write reopens it
      }
      journal = null;
    }
  }
}
