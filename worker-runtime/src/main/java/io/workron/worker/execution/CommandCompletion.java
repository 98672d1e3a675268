package io.workron.worker.execution;

import java.time.Duration;
import java.time.Instant;

/**
 * How a command ended.
 *
 * @param exitCode the shell's exit status; 128 + n when signal n ended it
 * @param output the newest merged stdout and stderr, as UTF-8
 * @param outputTruncated whether older output was dropped to keep {@code output} bounded
 * @param stopped whether the worker stopped it ({@link RunningCommand#stop(Duration)})
 */
public record CommandCompletion(
    int exitCode,
    String output,
    boolean outputTruncated,
    Instant startedAt,
    Instant finishedAt,
    boolean stopped) {

  public Duration duration() {
    return Duration.between(startedAt, finishedAt);
  }
}
