package io.workron.gateway.health;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HealthControllerTest {

  @ParameterizedTest(name = "{0} ms up reads {1}")
  @CsvSource({
    "0, 0s",
    "499, 0s",
    "500, 1s",
    "45000, 45s",
    "125000, 2m5s",
    "3600000, 1h0m0s",
    "8130400, 2h15m30s",
    "90061000, 25h1m1s"
  })
  void reportsUptimeTheWayTheSeedDid(long millisUp, String expected) {
    MovableClock clock = new MovableClock(Instant.parse("2026-01-01T00:00:00Z"));
    HealthController health = new HealthController(clock);

    clock.advance(Duration.ofMillis(millisUp));

    assertThat(health.health().uptime()).isEqualTo(expected);
  }

  private static final class MovableClock extends Clock {
    private Instant now;

    MovableClock(Instant start) {
      this.now = start;
    }

    void advance(Duration duration) {
      now = now.plus(duration);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }
}
