package io.workron.worker.execution;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one watchdog of a worker's commands ({@code guardian.sh}): a shell in a session of its own
 * that learns each command's process group over its standard input and stops every group it still
 * knows when that input closes, which the kernel does when the worker dies, even by {@code kill
 * -9}. Started before the first command; started again, and told every live group, as soon as it is
 * gone. Thread-safe.
 *
 * <p>It replaces a watchdog shell per command, which cost each job two more processes.
 */
final class Guardian {

  private static final Logger log = LoggerFactory.getLogger(Guardian.class);
  private static final String SCRIPT = CommandRunner.resource("guardian.sh");

  private final Path setsid;
  private final Duration grace;

  /** Live groups, with how often each is listed (a pgid can come back before it was forgotten). */
  private final Map<Long, Integer> live = new LinkedHashMap<>();

  private Process process;
  private OutputStream input;
  private boolean closed;

  Guardian(Path setsid, Duration grace) {
    this.setsid = setsid;
    this.grace = grace;
  }

  /** Starts the guardian now rather than with the first group it is told of. */
  synchronized void ready() {
    if (input == null && !closed) {
      send(null);
    }
  }

  /** From now on the group {@code pgid} is stopped if the worker dies. */
  synchronized void watch(long pgid) {
    live.merge(pgid, 1, Integer::sum);
    send("+ " + pgid + "\n");
  }

  /** The leader of group {@code pgid} has exited and its output is closed: nothing to stop. */
  synchronized void forget(long pgid) {
    Integer n = live.get(pgid);
    if (n == null) {
      return;
    }
    if (n == 1) {
      live.remove(pgid);
    } else {
      live.put(pgid, n - 1);
    }
    send("- " + pgid + "\n");
  }

  /** Closes the worker's end of the pipe, as the kernel does when the worker dies. For tests. */
  synchronized void closeWorkersEnd() throws InterruptedException {
    closed = true;
    live.clear();
    if (input != null) {
      Process p = process;
      try {
        input.close();
      } catch (IOException ignored) {
        // closed either way
      }
      input = null;
      process = null;
      p.waitFor();
    }
  }

  /** The guardian process {@code p} ended: unless the worker closed it, another takes over. */
  private synchronized void ended(Process p) {
    if (p != process || closed) {
      return;
    }
    log.warn("the worker's process guardian exited ({}); starting another", p.exitValue());
    input = null;
    process = null;
    send(null);
  }

  /** Writes {@code line} (null: nothing) to the guardian, starting one first if there is none. */
  private void send(String line) {
    if (closed) {
      return;
    }
    for (int tries = 0; tries < 2; tries++) {
      try {
        if (input == null) {
          start();
          // a new guardian knows nothing yet: every live group, this one included
          StringBuilder all = new StringBuilder();
          live.forEach(
              (g, n) -> {
                for (int i = 0; i < n; i++) {
                  all.append("+ ").append(g).append('\n');
                }
              });
          input.write(all.toString().getBytes(StandardCharsets.US_ASCII));
        } else if (line != null) {
          input.write(line.getBytes(StandardCharsets.US_ASCII));
        }
        input.flush();
        return;
      } catch (IOException e) {
        log.warn("the worker's process guardian is gone ({}); starting another", e.toString());
        try {
          input.close();
        } catch (IOException | RuntimeException ignored) {
          // broken already
        }
        input = null;
        if (process != null) {
          process.destroy();
          process = null;
        }
      }
    }
    log.warn("no process guardian: commands running now may outlive a crash of this worker");
  }

  private void start() throws IOException {
    process =
        new ProcessBuilder(
                List.of(
                    setsid.toString(),
                    "/bin/sh",
                    "-c",
                    SCRIPT,
                    "workron-guardian",
                    Long.toString(Math.max(1, grace.toSeconds()))))
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    input = process.getOutputStream();
    Process started = process;
    started.onExit().thenRun(() -> ended(started));
  }
}
