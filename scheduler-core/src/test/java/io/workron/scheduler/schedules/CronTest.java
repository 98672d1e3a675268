package io.workron.scheduler.schedules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.ZoneId;
import java.time.ZonedDateTime;
import org.junit.jupiter.api.Test;
import org.springframework.scheduling.support.CronExpression;

/** How schedules read cron, and what daylight-saving changes do to a fire time. */
class CronTest {

  private static final ZoneId PARIS = ZoneId.of("Europe/Paris");

  @Test
  void fiveUnixFieldsMeanSecondZeroAndSixFieldsStartWithTheSecond() {
    assertThat(Schedules.sixFields("*/1 * * * *")).isEqualTo("0 */1 * * * *");
    assertThat(Schedules.sixFields("*/2 * * * * *")).isEqualTo("*/2 * * * * *");
    assertThat(Schedules.sixFields("@daily")).isEqualTo("@daily");
    assertThatThrownBy(() -> Schedules.cron("* * *"))
        .isInstanceOf(Schedules.Invalid.class)
        .hasMessageContaining("has 3 fields");
    assertThatThrownBy(() -> Schedules.cron("61 * * * *"))
        .isInstanceOf(Schedules.Invalid.class)
        .satisfies(e -> assertThat(((Schedules.Invalid) e).field()).isEqualTo("cron"));
  }

  @Test
  void aFireTimeThatTheSpringForwardChangeSkipsDoesNotFireThatDay() {
    CronExpression daily = Schedules.cron("30 2 * * *");
    // 2026-03-29 in Paris: 02:00 becomes 03:00, so 02:30 does not exist that day
    ZonedDateTime next = daily.next(ZonedDateTime.of(2026, 3, 29, 1, 0, 0, 0, PARIS));

    assertThat(next.toLocalDate()).isEqualTo(java.time.LocalDate.of(2026, 3, 30));
    assertThat(next.toLocalTime()).isEqualTo(java.time.LocalTime.of(2, 30));
  }

  @Test
  void aFireTimeThatTheFallBackChangeRepeatsFiresAtBothInstants() {
    CronExpression daily = Schedules.cron("30 2 * * *");
    // 2026-10-25 in Paris: 03:00 becomes 02:00, so 02:30 happens twice, an hour apart
    ZonedDateTime first = daily.next(ZonedDateTime.of(2026, 10, 25, 1, 0, 0, 0, PARIS));
    ZonedDateTime second = daily.next(first);

    assertThat(first.toLocalTime()).isEqualTo(java.time.LocalTime.of(2, 30));
    assertThat(second.toLocalTime()).isEqualTo(java.time.LocalTime.of(2, 30));
    assertThat(java.time.Duration.between(first.toInstant(), second.toInstant()))
        .isEqualTo(java.time.Duration.ofHours(1));
  }
}
