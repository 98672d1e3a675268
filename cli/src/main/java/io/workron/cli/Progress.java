package io.workron.cli;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * What a long wait shows while it waits: a progress bar on stderr when stdout is a terminal,
 * nothing otherwise (a pipe or a file gets the job's output and nothing else).
 */
interface Progress extends AutoCloseable {

  /** The state of what is waited for: {@code done} of {@code total} (total 0: not countable). */
  void show(String state, long done, long total);

  @Override
  void close();

  Progress NONE =
      new Progress() {
        @Override
        public void show(String state, long done, long total) {}

        @Override
        public void close() {}
      };

  /**
   * A bar for {@code what} (closing it twice is harmless) (e.g. the job's id), on a terminal's
   * stderr.
   */
  static Progress bar(String what, long total) {
    ProgressBar bar =
        new ProgressBarBuilder()
            .setTaskName(what)
            .setInitialMax(total > 0 ? total : -1)
            .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
            .setUpdateIntervalMillis(200)
            .continuousUpdate()
            .hideEta()
            .setConsumer(new ConsoleProgressBarConsumer(System.err))
            .build();
    return new Progress() {
      private boolean closed;

      @Override
      public void show(String state, long done, long count) {
        if (closed) {
          return;
        }
        if (count > 0) {
          bar.maxHint(count);
          bar.stepTo(done);
        }
        bar.setExtraMessage(state);
      }

      @Override
      public void close() {
        if (!closed) {
          closed = true;
          bar.close();
        }
      }
    };
  }
}
