package io.workron.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.workron.schemas.Topics;
import io.workron.testsupport.KafkaFixture;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * An operator finds a refused message among the dead letters, fixes what refused it, and replays
 * it: the message is applied as if it had never been refused, and the replay is on record.
 */
class DeadLetterReplayIT {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static SchedulerUnderTest sut;
  private static Topics topics;

  @BeforeAll
  static void start() {
    sut = new SchedulerUnderTest();
    topics = sut.topics;
  }

  @BeforeEach
  void finishWhatOtherTestsLeft() throws Exception {
    sut.finishWhatOtherTestsLeft();
  }

  @AfterAll
  static void stop() {
    sut.close();
  }

  @Test
  void aSubmissionRefusedByTheStoreIsReplayedAfterTheFixAndRunsOnce() throws Exception {
    String job = SchedulerUnderTest.newJobId();
    sut.execute("alter table jobs add constraint test_refuses check (command <> 'refuse me')");
    JsonNode letter;
    try {
      sut.kafka.send(topics.submissions(), job, sut.submission(job, "refuse me", null, null));
      letter =
          await()
              .atMost(WAIT)
              .until(() -> letterWithKey(topics.submissions(), job), l -> l != null);
      assertThat(letter.path("topic").asString())
          .isEqualTo(Topics.deadLetter(topics.submissions()));
      assertThat(letter.path("reason").asString()).isEqualTo("REJECTED_BY_STORE");
      assertThat(letter.path("error").asString()).contains("SQLSTATE 23514");
      assertThat(letter.path("origin").asString()).startsWith(topics.submissions() + "/");
      assertThat(letter.path("replayable").asBoolean()).isTrue();
      assertThat(letter.path("value_preview").asString()).contains("refuse me");
      assertThat(letter.has("replayed")).isFalse();
      assertThat(sut.job(job)).isNull();
    } finally {
      sut.execute("alter table jobs drop constraint test_refuses");
    }

    String path = path(letter);
    HttpResponse<String> replayed = sut.post(path + "/replay", "", "req-replay-1", "ops-alice");
    assertThat(replayed.statusCode()).as(replayed.body()).isEqualTo(200);
    JsonNode answer = sut.codec.mapper().readTree(replayed.body());
    assertThat(answer.path("replayed_to").asString()).startsWith(topics.submissions() + "/");
    assertThat(answer.path("by").asString()).isEqualTo("ops-alice");

    await().atMost(WAIT).until(() -> sut.job(job) != null);
    assertThat(sut.job(job).path("command").asString()).isEqualTo("refuse me");

    // once is what was asked for: a second replay must be asked for as such
    HttpResponse<String> twice = sut.post(path + "/replay", "", "req-replay-2", "ops-bob");
    assertThat(twice.statusCode()).isEqualTo(409);
    JsonNode problem = sut.codec.mapper().readTree(twice.body());
    assertThat(problem.path("field").asString()).isEqualTo("again");
    assertThat(problem.path("detail").asString()).contains("ops-alice");

    JsonNode listed = letterWithKey(topics.submissions(), job);
    assertThat(listed.path("replayed").path("by").asString()).isEqualTo("ops-alice");
    assertThat(listed.path("replayed").path("replays").asInt()).isEqualTo(1);
    assertThat(listed.path("replayed").path("request_id").asString()).isEqualTo("req-replay-1");
    assertThat(
            sut.rows(
                "select actor, action, subject from audit_events"
                    + " where action = 'dead_letter.replay'"))
        .contains("ops-alice")
        .contains(letter.path("topic").asString() + "/0@" + letter.path("offset").asLong());

    // asked for again, it is sent again; the job is stored once all the same
    HttpResponse<String> again =
        sut.post(path + "/replay?again=true", "", "req-replay-3", "ops-bob");
    assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
    assertThat(sut.codec.mapper().readTree(again.body()).path("replays").asInt()).isEqualTo(2);
    sut.finishWhatOtherTestsLeft();
    assertThat(sut.count("select count(*) from jobs where id = '" + job + "'")).isEqualTo(1);
  }

  @Test
  void aBoundedCopyIsShownButNotReplayed() throws Exception {
    String key = "k-" + UUID.randomUUID();
    byte[] huge = KafkaFixture.oversizedDocument(2 * 1024 * 1024);
    sut.kafka.sendCompressed(topics.results(), key, huge);
    JsonNode letter =
        await().atMost(WAIT).until(() -> letterWithKey(topics.results(), key), l -> l != null);
    assertThat(letter.path("truncated").asBoolean()).isTrue();
    assertThat(letter.path("replayable").asBoolean()).isFalse();
    assertThat(letter.path("original_size").asLong()).isEqualTo(huge.length);

    HttpResponse<String> refused = sut.post(path(letter) + "/replay", "", "req-b", "ops-alice");
    assertThat(refused.statusCode()).isEqualTo(409);
    assertThat(sut.codec.mapper().readTree(refused.body()).path("detail").asString())
        .contains("bounded copy")
        .contains(letter.path("origin").asString());

    JsonNode whole = sut.get(path(letter));
    assertThat(whole.path("value").asString()).hasSize(64 * 1024);
  }

  @Test
  void pagesGoNewestFirstAcrossTopicsWithoutRepeatsOrGaps() throws Exception {
    String run = UUID.randomUUID().toString().substring(0, 8);
    List<String> sent = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      String key = run + "-" + i;
      String topic = i % 2 == 0 ? topics.heartbeats() : topics.submissions();
      sut.kafka.send(topic, key, "not json".getBytes(StandardCharsets.UTF_8));
      sent.add(key);
      String t = topic;
      await().atMost(WAIT).until(() -> letterWithKey(t, key), l -> l != null);
    }
    List<String> seen = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    String cursor = null;
    int pages = 0;
    do {
      JsonNode page =
          sut.get(
              "/internal/dead-letters?limit=2"
                  + (cursor == null
                      ? ""
                      : "&cursor=" + URLEncoder.encode(cursor, StandardCharsets.UTF_8)));
      assertThat(page.path("dead_letters").size()).isLessThanOrEqualTo(2);
      for (JsonNode l : page.path("dead_letters")) {
        assertThat(ids.add(path(l))).as("listed twice: %s", path(l)).isTrue();
        if (l.path("key").asString("").startsWith(run)) {
          seen.add(l.path("key").asString());
        }
      }
      cursor = page.path("next_cursor").isNull() ? null : page.path("next_cursor").asString();
      pages++;
    } while (cursor != null && pages < 100);
    assertThat(cursor).isNull();
    List<String> newestFirst = new ArrayList<>(sent);
    java.util.Collections.reverse(newestFirst);
    assertThat(seen).containsExactlyElementsOf(newestFirst);

    JsonNode first = sut.get("/internal/dead-letters?limit=1");
    List<String> names = new ArrayList<>();
    first.path("topics").forEach(t -> names.add(t.path("topic").asString()));
    assertThat(names)
        .contains(Topics.deadLetter(topics.heartbeats()), Topics.deadLetter(topics.submissions()));
  }

  @Test
  void whatIsNotADeadLetterIsAnsweredAsSuch() throws Exception {
    assertThat(sut.statusCode("/internal/dead-letters/" + topics.submissions() + "/0/0"))
        .isEqualTo(400);
    assertThat(sut.statusCode("/internal/dead-letters/other.submissions.dlq/0/0")).isEqualTo(400);
    assertThat(
            sut.statusCode(
                "/internal/dead-letters/" + Topics.deadLetter(topics.submissions()) + "/0/999999"))
        .isEqualTo(404);
    assertThat(sut.statusCode("/internal/dead-letters?cursor=%25%25")).isEqualTo(400);
    assertThat(sut.statusCode("/internal/dead-letters?limit=0")).isEqualTo(400);
    assertThat(sut.statusCode("/internal/dead-letters?topic=elsewhere")).isEqualTo(400);
  }

  private static String path(JsonNode letter) {
    return "/internal/dead-letters/"
        + letter.path("topic").asString()
        + "/"
        + letter.path("partition").asInt()
        + "/"
        + letter.path("offset").asLong();
  }

  /** The newest dead letter of {@code topic} with this key, from the first page, or null. */
  private static JsonNode letterWithKey(String topic, String key) throws Exception {
    for (JsonNode l :
        sut.get("/internal/dead-letters?limit=200&topic=" + topic).path("dead_letters")) {
      if (key.equals(l.path("key").asString(null))) {
        return l;
      }
    }
    return null;
  }
}
