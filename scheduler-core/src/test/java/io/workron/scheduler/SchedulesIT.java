package io.workron.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Recurring schedules on the real database: one job per fire time with a deterministic id, never
 * two, the missed and overlap policies, pause, and the refusals. No worker runs here, so the fired
 * jobs stay pending.
 */
class SchedulesIT {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static SchedulerUnderTest sut;

  @BeforeAll
  static void start() {
    sut = new SchedulerUnderTest("--workron.scheduler.schedule-tick=200ms");
  }

  @AfterAll
  static void stop() {
    sut.close();
  }

  @Test
  void eachFireCreatesOneJobNamedAfterTheScheduleAndItsFireTimeAndNeverTwo() throws Exception {
    HttpResponse<String> created =
        create(
            "{\"name\":\"every-2s\",\"cron\":\"*/2 * * * * *\",\"overlap\":\"allow\","
                + "\"job\":{\"command\":\"true\",\"queue_name\":\"cron\"}}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    JsonNode schedule = sut.codec.mapper().readTree(created.body());
    assertThat(Instant.parse(schedule.get("next_fire_at").asString()))
        .isAfter(Instant.now().minusSeconds(1));
    try {
      await().atMost(WAIT).until(() -> jobsOf("every-2s") >= 2);
      JsonNode after = schedule("every-2s");
      String lastJob = after.get("last_job_id").asString();
      assertThat(lastJob).matches("schedule-every-2s-\\d{8}T\\d{6}Z");
      // fire times are even seconds
      assertThat(
              Integer.parseInt(lastJob.substring(lastJob.length() - 3, lastJob.length() - 1)) % 2)
          .isZero();
      JsonNode job = sut.job(lastJob);
      assertThat(job.get("command").asString()).isEqualTo("true");
      assertThat(job.get("queue_name").asString()).isEqualTo("cron");

      // a replica that had not seen the last fire makes it again: the same id, no second job
      sut.execute("update schedules set next_fire_at = last_fire_at where name = 'every-2s'");
      await()
          .atMost(WAIT)
          .until(() -> !schedule("every-2s").get("last_job_id").asString().equals(lastJob));
      assertThat(sut.count("select count(*) from jobs where id = '" + lastJob + "'")).isEqualTo(1);
    } finally {
      assertThat(sut.delete("/internal/schedules/every-2s").statusCode()).isEqualTo(204);
    }
    assertThat(sut.getResponse("/internal/schedules/every-2s").statusCode()).isEqualTo(404);
  }

  @Test
  void aFireWhileThePreviousFiresJobHasNotFinishedIsSkippedSayingWhy() throws Exception {
    assertThat(
            create(
                    "{\"name\":\"no-overlap\",\"cron\":\"*/2 * * * * *\","
                        + "\"job\":{\"command\":\"sleep 600\"}}")
                .statusCode())
        .isEqualTo(201);
    try {
      await().atMost(WAIT).until(() -> schedule("no-overlap").has("last_skip_reason"));
      JsonNode s = schedule("no-overlap");
      assertThat(s.get("overlap").asString()).isEqualTo("skip");
      assertThat(s.get("last_skip_reason").asString())
          .contains("the job of the previous fire, " + s.get("last_job_id").asString())
          .contains("is still pending");
      assertThat(jobsOf("no-overlap")).isEqualTo(1);
    } finally {
      sut.delete("/internal/schedules/no-overlap");
    }
  }

  @Test
  void firesMissedWhileDownAreSkippedOrMadeOnceAsTheSchedulesPolicySays() throws Exception {
    assertThat(
            create(
                    "{\"name\":\"yearly-skip\",\"cron\":\"0 0 1 1 *\","
                        + "\"job\":{\"command\":\"true\"}}")
                .statusCode())
        .isEqualTo(201);
    assertThat(
            create(
                    "{\"name\":\"yearly-once\",\"cron\":\"0 0 1 1 *\",\"missed\":\"run_once\","
                        + "\"job\":{\"command\":\"true\"}}")
                .statusCode())
        .isEqualTo(201);
    try {
      int thisYear = java.time.Year.now(java.time.ZoneOffset.UTC).getValue();
      int missedYears = thisYear - 2023 + 1;
      // as if no scheduler-core had run since 2022: the fires of 2023 to this year were missed
      sut.execute(
          "update schedules set next_fire_at = timestamptz '2023-01-01 00:00:00+00' "
              + "where name in ('yearly-skip', 'yearly-once')");

      await().atMost(WAIT).until(() -> schedule("yearly-once").has("last_job_id"));
      await().atMost(WAIT).until(() -> schedule("yearly-skip").has("last_skip_reason"));
      JsonNode skipped = schedule("yearly-skip");
      assertThat(skipped.get("last_skip_reason").asString())
          .startsWith("skipped " + missedYears + " fires missed")
          .contains("missed: skip");
      assertThat(jobsOf("yearly-skip")).isZero();
      assertThat(Instant.parse(skipped.get("next_fire_at").asString())).isAfter(Instant.now());
      JsonNode once = schedule("yearly-once");
      assertThat(jobsOf("yearly-once")).isEqualTo(1);
      assertThat(once.get("last_skip_reason").asString())
          .startsWith("skipped " + (missedYears - 1) + " fire");
      // the one made is the latest missed fire: this year's
      assertThat(once.get("last_fire_at").asString()).isEqualTo(thisYear + "-01-01T00:00:00Z");
    } finally {
      sut.delete("/internal/schedules/yearly-skip");
      sut.delete("/internal/schedules/yearly-once");
    }
  }

  @Test
  void aPausedScheduleDoesNotFireAndResumesAtItsNextTime() throws Exception {
    assertThat(
            create(
                    "{\"name\":\"pausable\",\"cron\":\"0 3 * * *\",\"time_zone\":\"Europe/Paris\","
                        + "\"job\":{\"command\":\"true\"}}")
                .statusCode())
        .isEqualTo(201);
    try {
      HttpResponse<String> paused = sut.post("/internal/schedules/pausable/pause", "");
      assertThat(paused.statusCode()).isEqualTo(200);
      JsonNode p = sut.codec.mapper().readTree(paused.body());
      assertThat(p.get("paused").asBoolean()).isTrue();
      assertThat(p.get("next_fire_at").isNull()).isTrue();
      HttpResponse<String> resumed = sut.post("/internal/schedules/pausable/resume", "");
      JsonNode r = sut.codec.mapper().readTree(resumed.body());
      assertThat(r.get("paused").asBoolean()).isFalse();
      assertThat(
              Instant.parse(r.get("next_fire_at").asString())
                  .atZone(java.time.ZoneId.of("Europe/Paris"))
                  .getHour())
          .isEqualTo(3);
      assertThat(sut.post("/internal/schedules/nope/pause", "").statusCode()).isEqualTo(404);
    } finally {
      sut.delete("/internal/schedules/pausable");
    }
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.CsvSource(
      delimiter = '|',
      textBlock =
          """
          bad cron        | {"name":"b1","cron":"every minute","job":{"command":"true"}}          | cron
          bad zone        | {"name":"b2","cron":"* * * * *","time_zone":"Mars/Olympus","job":{"command":"true"}} | time_zone
          no command      | {"name":"b3","cron":"* * * * *","job":{"priority":1}}                 | job.command
          zero timeout    | {"name":"b4","cron":"* * * * *","job":{"command":"x","timeout_seconds":0}} | job.timeout_seconds
          bad name        | {"name":"no spaces","cron":"* * * * *","job":{"command":"true"}}      | name
          no job          | {"name":"b5","cron":"* * * * *"}                                      | job
          unknown policy  | {"name":"b6","cron":"* * * * *","missed":"all","job":{"command":"x"}} | missed
          """)
  void aBadScheduleIsRefusedNamingTheField(String caseName, String body, String field)
      throws Exception {
    HttpResponse<String> response = create(body);

    assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
    assertThat(sut.codec.mapper().readTree(response.body()).get("field").asString())
        .isEqualTo(field);
  }

  @Test
  void aSecondScheduleWithTheSameNameIsAConflict() throws Exception {
    String body = "{\"name\":\"twice\",\"cron\":\"0 0 1 1 *\",\"job\":{\"command\":\"true\"}}";
    assertThat(create(body).statusCode()).isEqualTo(201);
    try {
      assertThat(create(body).statusCode()).isEqualTo(409);
    } finally {
      sut.delete("/internal/schedules/twice");
    }
  }

  private static HttpResponse<String> create(String body) throws Exception {
    return sut.post("/internal/schedules", body);
  }

  private static JsonNode schedule(String name) throws Exception {
    return sut.get("/internal/schedules/" + name);
  }

  private static long jobsOf(String schedule) throws Exception {
    return sut.count("select count(*) from jobs where id like 'schedule-" + schedule + "-%'");
  }
}
