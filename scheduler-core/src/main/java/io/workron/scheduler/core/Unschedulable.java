package io.workron.scheduler.core;

import java.util.List;
import java.util.Optional;

/**
 * Whether a job asking for resources could ever run on the workers that are registered, and if not,
 * a reason an operator can act on. Plain Java.
 */
public final class Unschedulable {

  /** What one registered worker declares. */
  public record Offer(long vramMb, long memoryMb) {}

  private Unschedulable() {}

  /**
   * Empty when some worker declares at least {@code vramMb} and {@code memoryMb} (a request of 0
   * always fits); otherwise why none does, naming the resource.
   */
  public static Optional<String> explain(long vramMb, long memoryMb, List<Offer> offers) {
    long maxVram = 0;
    long maxMemory = 0;
    for (Offer o : offers) {
      if (vramMb <= o.vramMb() && memoryMb <= o.memoryMb()) {
        return Optional.empty();
      }
      maxVram = Math.max(maxVram, o.vramMb());
      maxMemory = Math.max(maxMemory, o.memoryMb());
    }
    boolean vramTooMuch = vramMb > maxVram;
    boolean memoryTooMuch = memoryMb > maxMemory;
    if (vramTooMuch && memoryTooMuch) {
      return Optional.of(
          "no registered worker offers vram_mb "
              + vramMb
              + " or memory_mb "
              + memoryMb
              + " (the most any offers: vram_mb "
              + maxVram
              + ", memory_mb "
              + maxMemory
              + ")");
    }
    if (vramTooMuch) {
      return Optional.of(
          "no registered worker offers vram_mb "
              + vramMb
              + " (the most any offers is "
              + maxVram
              + ")");
    }
    if (memoryTooMuch) {
      return Optional.of(
          "no registered worker offers memory_mb "
              + memoryMb
              + " (the most any offers is "
              + maxMemory
              + ")");
    }
    return Optional.of(
        "no registered worker offers vram_mb " + vramMb + " together with memory_mb " + memoryMb);
  }
}
