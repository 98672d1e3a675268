package io.workron.worker.execution;

import java.io.IOException;
import java.io.InputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One started command. {@link #await()} waits for it to end; {@link #stop(Duration)} ends it from
 * another thread: SIGTERM to its process group, a grace period, then SIGKILL.
 *
 * <p>When the shell exits but processes it left in the background still hold the output pipe, the
 * job is over: after {@link #OUTPUT_DRAIN} they are killed so the slot is really free again.
 */
public final class RunningCommand {

  /** How long background leftovers of a finished shell may keep writing before they are killed. */
  static final Duration OUTPUT_DRAIN = Duration.ofSeconds(2);

  private static final Logger log = LoggerFactory.getLogger(RunningCommand.class);

  private final Process process;
  private final boolean ownProcessGroup;
  private final Instant startedAt;
  private final Clock clock;
  private final OutputTail tail;
  private final java.util.concurrent.Future<?> reader;
  private volatile boolean stopRequested;

  private final ProcessLedger ledger;
  private final Guardian guardian;
  private final java.util.concurrent.atomic.AtomicBoolean guardianForgot =
      new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * @param ledger when not null, the group is forgotten by the ledger once its leader has exited
   * @param guardian when not null, the group is forgotten by the guardian once it has ended
   */
  RunningCommand(
      Process process,
      boolean ownProcessGroup,
      Instant startedAt,
      Clock clock,
      OutputTail tail,
      ProcessLedger ledger,
      Guardian guardian) {
    this.process = process;
    this.ownProcessGroup = ownProcessGroup;
    this.startedAt = startedAt;
    this.clock = clock;
    this.tail = tail;
    this.ledger = ledger;
    this.guardian = guardian;
    this.reader = READERS.submit(this::copyOutput);
  }

  /**
   * The threads that copy the commands' output, one per running command, kept between commands
   * instead of one started for each.
   */
  private static final java.util.concurrent.ExecutorService READERS =
      java.util.concurrent.Executors.newCachedThreadPool(
          new java.util.concurrent.ThreadFactory() {
            private final java.util.concurrent.atomic.AtomicInteger n =
                new java.util.concurrent.atomic.AtomicInteger();

            @Override
            public Thread newThread(Runnable r) {
              Thread t = new Thread(r, "workron-output-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            }
          });

  public long pid() {
    return process.pid();
  }

  public Instant startedAt() {
    return startedAt;
  }

  /** Waits until the command has exited and its output is read. */
  public CommandCompletion await() throws InterruptedException {
    int exitCode = process.waitFor();
    Instant finishedAt = clock.instant();
    if (ledger != null) {
      ledger.remove(process.pid());
    }
    if (!outputRead(OUTPUT_DRAIN)) {
      log.info(
          "command pid={} exited with {} but left processes holding its output; killing them",
          pid(),
          exitCode);
      signal("KILL", List.of());
      outputRead(OUTPUT_DRAIN);
    }
    if (guardian != null && guardianForgot.compareAndSet(false, true)) {
      guardian.forget(pid());
    }
    return new CommandCompletion(
        exitCode, tail.text(), tail.truncated(), startedAt, finishedAt, stopRequested);
  }

  /**
   * Ends the command and everything it started: SIGTERM to the process group, up to {@code grace}
   * for them to exit, then SIGKILL to whatever is left. Returns once the signals are sent and the
   * shell has exited (or after {@code grace} plus a moment if even SIGKILL did not end it).
   */
  public void stop(Duration grace) {
    stopRequested = true;
    List<ProcessHandle> members =
        Stream.concat(Stream.of(process.toHandle()), process.descendants()).toList();
    signal("TERM", members);
    if (!allExit(members, grace)) {
      log.info("command pid={} still running {} after SIGTERM; sending SIGKILL", pid(), grace);
    }
    signal("KILL", members);
    allExit(List.of(process.toHandle()), Duration.ofSeconds(5));
    if (guardian != null && !process.isAlive() && guardianForgot.compareAndSet(false, true)) {
      // usually await() forgets it; not when await() was interrupted on the way
      guardian.forget(pid());
    }
  }

  /** The output kept so far, while the command still runs. */
  public String outputSoFar() {
    return tail.text();
  }

  /** Whether output older than {@link #outputSoFar()} was dropped. */
  public boolean outputTruncated() {
    return tail.truncated();
  }

  /** Whether {@link #stop(Duration)} was called. */
  public boolean stopRequested() {
    return stopRequested;
  }

  private void signal(String signal, List<ProcessHandle> members) {
    if (!ownProcessGroup) {
      // no process group of its own: reach the shell and the children it still knows about
      List<ProcessHandle> targets =
          members.isEmpty()
              ? Stream.concat(Stream.of(process.toHandle()), process.descendants()).toList()
              : members;
      for (ProcessHandle target : targets) {
        if (signal.equals("KILL")) {
          target.destroyForcibly();
        } else {
          target.destroy();
        }
      }
      return;
    }
    ProcessLedger.signalGroup(signal, pid());
  }

  private static boolean allExit(List<ProcessHandle> members, Duration within) {
    CompletableFuture<?>[] exits =
        members.stream().map(ProcessHandle::onExit).toArray(CompletableFuture[]::new);
    try {
      CompletableFuture.allOf(exits).get(within.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException | ExecutionException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Whether the output was read to its end within {@code within}. */
  private boolean outputRead(Duration within) throws InterruptedException {
    try {
      reader.get(within.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      return true; // copyOutput keeps what it read and ends on an I/O error
    }
  }

  private void copyOutput() {
    byte[] buffer = new byte[8192];
    try (InputStream in = process.getInputStream()) {
      int read;
      while ((read = in.read(buffer)) >= 0) {
        tail.write(buffer, 0, read);
      }
    } catch (IOException e) {
      // the pipe closes when the process group is killed; what was read is kept
    }
  }
}
