package io.workron.scheduler.loops;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A daemon thread that runs rounds of work: at once again while a round says there may be more,
 * else after {@code idle} or as soon as {@link #wake()} is called; after a failed round, after
 * {@code afterFailure}. A wake that comes while a round runs is not lost: the next wait ends at
 * once.
 */
public final class WakeableLoop {

  private final String name;
  private final BooleanSupplier round;
  private final Duration idle;
  private final Duration afterFailure;
  private final Consumer<RuntimeException> onFailure;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition work = lock.newCondition();
  private boolean pending;
  private volatile boolean running;
  private Thread thread;

  /**
   * @param round one round; true when there may be more work right away
   * @param onFailure told of a round that threw (to log it) before the loop waits
   */
  public WakeableLoop(
      String name,
      BooleanSupplier round,
      Duration idle,
      Duration afterFailure,
      Consumer<RuntimeException> onFailure) {
    this.name = name;
    this.round = round;
    this.idle = idle;
    this.afterFailure = afterFailure;
    this.onFailure = onFailure;
  }

  public void start() {
    running = true;
    thread = new Thread(this::loop, name);
    thread.setDaemon(true);
    thread.start();
  }

  /** Ends the loop after the round in progress, waiting up to 10 s for it. */
  public void stop() {
    running = false;
    wake();
    try {
      thread.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public boolean isRunning() {
    return running;
  }

  /** Starts the next round now instead of after the idle wait. */
  public void wake() {
    lock.lock();
    try {
      pending = true;
      work.signal();
    } finally {
      lock.unlock();
    }
  }

  private void loop() {
    while (running) {
      Duration pause;
      try {
        pause = round.getAsBoolean() ? Duration.ZERO : idle;
      } catch (RuntimeException e) {
        onFailure.accept(e);
        pause = afterFailure;
      }
      if (!pause.isZero() && !await(pause)) {
        return;
      }
    }
  }

  /** Waits up to {@code pause} unless woken; false when interrupted (the thread is to end). */
  private boolean await(Duration pause) {
    lock.lock();
    try {
      if (!pending && running) {
        work.await(pause.toMillis(), TimeUnit.MILLISECONDS);
      }
      pending = false;
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } finally {
      lock.unlock();
    }
  }
}
