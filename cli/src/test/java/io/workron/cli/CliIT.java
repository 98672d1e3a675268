package io.workron.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.workron.standalone.StandaloneStack;
import io.workron.testsupport.KafkaFixture;
import io.workron.testsupport.TestInfrastructure;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The CLI against the real standalone stack, with authentication on and a token the CLI made: the
 * gateway and the token come from {@code WORKRON_URL} and {@code WORKRON_TOKEN}, as a user sets
 * them.
 */
class CliIT {

  private static StandaloneStack stack;
  private static Map<String, String> env;
  private static String topicPrefix;

  @BeforeAll
  static void start() throws Exception {
    Run made = Run.of(Map.of(), "token", "ci", "jobs:read,jobs:write,admin");
    assertThat(made.code()).as(made.toString()).isZero();
    String token = field(made.out(), "token");
    String sha256 = field(made.out(), "sha256");
    assertThat(sha256).isEqualTo(TokenCommand.sha256(token));

    Map<String, String> properties = new LinkedHashMap<>();
    properties.put("workron.auth.enabled", "true");
    properties.put("workron.auth.tokens[0].name", "ci");
    properties.put("workron.auth.tokens[0].sha256", sha256);
    properties.put("workron.auth.tokens[0].scopes", "jobs:read,jobs:write,admin");
    TestInfrastructure infra = TestInfrastructure.get();
    topicPrefix = infra.newTopicPrefix();
    stack =
        StandaloneStack.start(
            new StandaloneStack.Options(
                Files.createTempDirectory("workron-cli"),
                infra.kafkaBootstrapServers(),
                0,
                infra.newDatabase(),
                infra.username(),
                infra.password(),
                0,
                0,
                0,
                2,
                2,
                topicPrefix,
                properties));
    env = Map.of("WORKRON_URL", "http://127.0.0.1:" + stack.gatewayPort(), "WORKRON_TOKEN", token);
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.close();
    }
  }

  private static String field(String out, String name) {
    Matcher m = Pattern.compile("(?m)^" + name + ":\\s+(\\S+)$").matcher(out);
    assertThat(m.find()).as("%s in %s", name, out).isTrue();
    return m.group(1);
  }

  /** A line of {@code workron get}: the field's name, a colon, its value. */
  private static String shownAs(String name, String value) {
    return "(?m)^" + Pattern.quote(name) + ":\\s+" + Pattern.quote(value) + "$";
  }

  private static Run workron(String... args) {
    return Run.of(env, args);
  }

  @Test
  void submitWaitPrintsTheOutputAndExitsWithTheJobsExitCode() {
    Run ok = workron("submit", "--wait", "echo hello from $WORKRON_JOB_ID");
    assertThat(ok.code()).as(ok.toString()).isZero();
    assertThat(ok.out()).startsWith("hello from ");
    assertThat(ok.err()).isEmpty();

    Run failed =
        workron("submit", "--wait", "--max-retries", "1", "--", "echo", "broken;", "exit", "3");
    assertThat(failed.code()).as(failed.toString()).isEqualTo(3);
    assertThat(failed.out()).isEqualTo("broken\n");
    assertThat(failed.err()).contains("failed with exit code 3");

    Run timedOut = workron("submit", "--wait", "--timeout", "1s", "--max-retries", "1", "sleep 30");
    assertThat(timedOut.code()).as(timedOut.toString()).isEqualTo(ExitCodes.TIMED_OUT);
  }

  @Test
  void submitPrintsTheIdThatGetListAndRetryUse() {
    Run submitted =
        workron(
            "submit",
            "--max-retries",
            "1",
            "--queue",
            "cli",
            "--priority",
            "5",
            "echo once; exit 7");
    assertThat(submitted.code()).as(submitted.toString()).isZero();
    String id = submitted.out().strip();
    Run waited = workron("wait", id);
    assertThat(waited.code()).as(waited.toString()).isEqualTo(7);

    Run shown = workron("get", id);
    assertThat(shown.code()).as(shown.toString()).isZero();
    assertThat(shown.out())
        .containsPattern(shownAs("id", id))
        .containsPattern(shownAs("status", "failed"))
        .containsPattern(shownAs("queue", "cli"))
        .containsPattern(shownAs("priority", "5"))
        .containsPattern(shownAs("exit code", "7"))
        .containsPattern("(?m)^ATTEMPT\\s+WORKER\\s+STARTED");

    Run listed = workron("list", "--status", "failed", "--json");
    assertThat(listed.code()).as(listed.toString()).isZero();
    JsonNode jobs = Gateway.JSON.readTree(listed.out());
    assertThat(
            java.util.stream.StreamSupport.stream(jobs.spliterator(), false)
                .map(j -> j.path("id").asString()))
        .contains(id);
    assertThat(workron("list", "--status", "failed").out())
        .containsPattern("(?m)^" + Pattern.quote(id) + "\\s+failed\\s+cli\\s+1/1");
    String worker =
        Gateway.JSON.readTree(workron("get", "--json", id).out()).path("worker_id").asString();
    Run filtered =
        workron(
            "list",
            "--queue",
            "cli",
            "--worker",
            worker,
            "--id-prefix",
            id.substring(0, 12),
            "--json");
    assertThat(filtered.code()).as(filtered.toString()).isZero();
    assertThat(filtered.out()).contains(id);
    assertThat(
            Gateway.JSON.readTree(workron("list", "--queue", "no-such-queue-here", "--json").out()))
        .isEmpty();

    Run retried = workron("retry", id);
    assertThat(retried.code()).as(retried.toString()).isZero();
    assertThat(retried.out()).isEqualTo(id + ": pending\n");
    Run again = workron("wait", "--json", id);
    assertThat(again.code()).isEqualTo(7);
    assertThat(Gateway.JSON.readTree(again.out()).path("attempt_history").size()).isEqualTo(2);
  }

  @Test
  void cancelStopsARunningJobAndItsWaiterExitsCancelled() {
    String id = workron("submit", "sleep 60").out().strip();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                Pattern.compile(shownAs("status", "running"))
                    .matcher(workron("get", id).out())
                    .find());
    CompletableFuture<Run> waiter = CompletableFuture.supplyAsync(() -> workron("wait", id));
    Run cancelled = workron("cancel", "--reason", "not needed", id);
    assertThat(cancelled.code()).as(cancelled.toString()).isZero();
    assertThat(cancelled.out()).startsWith(id + ": cancel");
    Run waited = waiter.join();
    assertThat(waited.code()).as(waited.toString()).isEqualTo(ExitCodes.CANCELLED);
    assertThat(waited.err()).contains("job " + id + " cancelled");
  }

  @Test
  void logsFollowPrintsTheOutputAsItComesUntilTheJobEnds() {
    String id = workron("submit", "echo one; sleep 1; echo two").out().strip();
    Run logs = workron("logs", "-f", id);
    assertThat(logs.code()).as(logs.toString()).isZero();
    assertThat(logs.out()).isEqualTo("one\ntwo\n");
    assertThat(workron("logs", id).out()).isEqualTo("one\ntwo\n");
  }

  @Test
  void aGangRunsAllOrNothingAndShowsItsTasksAcrossWorkers() {
    Run gang = workron("submit", "--gang", "2", "--wait", "echo task $GANG_INDEX");
    assertThat(gang.code()).as(gang.toString()).isZero();
    assertThat(gang.out())
        .containsPattern("gang \\S+: done, 2 tasks")
        .containsPattern("(?m)^0\\s+\\S+\\s+done");
    Matcher named = Pattern.compile("^gang (\\S+): done").matcher(gang.out());
    assertThat(named.find()).as(gang.out()).isTrue();
    String gangId = named.group(1);
    assertThat(workron("gang", gangId).out()).containsPattern("(?m)^1\\s+\\S+\\s+done\\s+\\S+");
  }

  @Test
  void dependenciesWorkersQueuesAndSchedules() {
    String first = workron("submit", "true").out().strip();
    Run second = workron("submit", "--depends-on", first, "--wait", "echo after");
    assertThat(second.code()).as(second.toString()).isZero();
    assertThat(second.out()).isEqualTo("after\n");

    Run workers = workron("workers");
    assertThat(workers.out().lines().filter(l -> l.contains(" active "))).hasSize(2);

    assertThat(workron("queues", "pause", "held").out()).isEqualTo("held: paused\n");
    assertThat(workron("queues").out()).containsPattern("(?m)^held\\s+yes");
    assertThat(workron("queues", "resume", "held").out()).isEqualTo("held: running\n");

    Run schedules = workron("schedules");
    assertThat(schedules.code()).as(schedules.toString()).isZero();
    assertThat(schedules.out()).startsWith("NAME");
  }

  @Test
  void withoutTheTokenTheGatewaySaysNoAndTheCliExitsDenied() {
    Run run = Run.of(Map.of("WORKRON_URL", env.get("WORKRON_URL")), "list");
    assertThat(run.code()).as(run.toString()).isEqualTo(ExitCodes.DENIED);
    assertThat(run.err()).startsWith("workron: GET /jobs?limit=20: 401");
    Run flag =
        Run.of(
            Map.of(),
            "--url",
            env.get("WORKRON_URL"),
            "--token",
            env.get("WORKRON_TOKEN"),
            "get",
            "no-such-job");
    assertThat(flag.code()).as(flag.toString()).isEqualTo(ExitCodes.NOT_FOUND);
  }

  @Test
  void dlqListsARefusedMessageWithWhyShowsItAndReplaysItOnce() throws Exception {
    String key = "cli-dlq-" + System.nanoTime();
    String submissions = topicPrefix + ".submissions";
    try (KafkaFixture kafka = new KafkaFixture(TestInfrastructure.get().kafkaBootstrapServers())) {
      kafka.send(submissions, key, "not a job".getBytes(StandardCharsets.UTF_8));
    }
    Run listed =
        await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () -> workron("dlq", "list", "--topic", submissions), r -> r.out().contains(key));
    assertThat(listed.code()).as(listed.toString()).isZero();
    Matcher row =
        Pattern.compile(
                "(?m)^("
                    + Pattern.quote(submissions)
                    + "\\.dlq/0@\\d+)\\s.*MALFORMED_JSON\\s+"
                    + Pattern.quote(key)
                    + "\\s+no\\s")
            .matcher(listed.out());
    assertThat(row.find()).as(listed.out()).isTrue();
    String where = row.group(1);

    Run shown = workron("dlq", "show", where);
    assertThat(shown.code()).as(shown.toString()).isZero();
    assertThat(shown.out()).contains("reason: MALFORMED_JSON").contains("not a job");

    Run replayed = workron("dlq", "replay", where);
    assertThat(replayed.code()).as(replayed.toString()).isZero();
    assertThat(replayed.out()).startsWith(where + ": replayed to " + submissions + "/");
    Run twice = workron("dlq", "replay", where);
    assertThat(twice.code()).as(twice.toString()).isEqualTo(ExitCodes.FAILED);
    assertThat(twice.err()).contains("replayed at").contains("by ci");
    assertThat(workron("dlq", "replay", "--again", where).code()).isZero();
    Run bad = workron("dlq", "show", "no-offset-here");
    assertThat(bad.code()).isEqualTo(ExitCodes.USAGE);
  }
}
