package io.workron.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.workron.schemas.JobEvent;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class JobSetTest {

  private static JobEvent event(String id, String status, Instant started, Instant finished) {
    return new JobEvent(id, status, 1, "w", null, null, "default", null, started, finished);
  }

  @Test
  void countsEachJobOnceWhateverTheDuplicates() {
    JobSet jobs = new JobSet(List.of("a", "b"));
    Instant s = Instant.parse("2026-01-01T00:00:00.000100Z");
    Instant f = Instant.parse("2026-01-01T00:00:00.002300Z");

    jobs.apply(0, event("a", "pending", null, null), 1);
    jobs.apply(0, event("a", "pending", null, null), 2);
    jobs.apply(0, event("a", "running", null, null), 3);
    jobs.apply(0, event("a", "done", s, f), 4);
    jobs.apply(0, event("a", "done", s, f), 5);

    assertThat(jobs.pendingCount()).isEqualTo(1);
    assertThat(jobs.lastPendingNanos()).isEqualTo(1);
    assertThat(jobs.doneCount()).isEqualTo(1);
    assertThat(jobs.lastTerminalNanos()).isEqualTo(4);
    assertThat(jobs.allTerminal()).isFalse();
    assertThat(jobs.finishedAtMicros(0) - jobs.startedAtMicros(0)).isEqualTo(2_200);

    jobs.apply(1, new JobEvent("b", "failed", 3, "w", 1, "exit 1", "default", null, null, null), 6);
    assertThat(jobs.failedCount()).isEqualTo(1);
    assertThat(jobs.allTerminal()).isTrue();
    assertThat(jobs.firstFailure()).contains("b failed: exit 1");
  }

  @Test
  void knowsOnlyItsOwnJobs() {
    JobSet jobs = JobSet.fresh(100, Clock.systemUTC());
    assertThat(jobs.indexOf(jobs.id(42))).isEqualTo(42);
    assertThat(jobs.indexOf("job-someone-else")).isEqualTo(-1);
    assertThat(jobs.indexOf(null)).isEqualTo(-1);
    assertThat(jobs.id(0)).matches("^job-[0-9a-f-]{36}$");
  }
}
