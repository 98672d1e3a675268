package io.workron.scheduler.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.workron.scheduler.core.Unschedulable.Offer;
import java.util.List;
import org.junit.jupiter.api.Test;

class UnschedulableTest {

  private static final List<Offer> FLEET = List.of(new Offer(0, 4096), new Offer(24576, 1024));

  @Test
  void aJobThatFitsOneWorkerIsSchedulable() {
    assertThat(Unschedulable.explain(0, 4096, FLEET)).isEmpty();
    assertThat(Unschedulable.explain(16384, 512, FLEET)).isEmpty();
    assertThat(Unschedulable.explain(0, 0, List.of(new Offer(0, 0)))).isEmpty();
  }

  @Test
  void namesTheResourceNoWorkerOffersEnoughOf() {
    assertThat(Unschedulable.explain(0, 999_999, FLEET))
        .hasValue("no registered worker offers memory_mb 999999 (the most any offers is 4096)");
    assertThat(Unschedulable.explain(80_000, 0, FLEET))
        .hasValue("no registered worker offers vram_mb 80000 (the most any offers is 24576)");
    assertThat(Unschedulable.explain(1, 1, List.of(new Offer(0, 0))))
        .hasValue(
            "no registered worker offers vram_mb 1 or memory_mb 1 (the most any offers: vram_mb 0,"
                + " memory_mb 0)");
  }

  @Test
  void saysSoWhenEachResourceIsOfferedButNeverBothOnOneWorker() {
    assertThat(Unschedulable.explain(16384, 4096, FLEET))
        .hasValue("no registered worker offers vram_mb 16384 together with memory_mb 4096");
  }
}
