package io.workron.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.workron.schemas.MessageType;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import io.workron.testsupport.KafkaFixture;
import io.workron.testsupport.TestInfrastructure;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import tools.jackson.databind.JsonNode;

/**
 * The three services and two workers together, as standalone mode runs them, on a real broker and a
 * real PostgreSQL: jobs go in through REST and through a plain Kafka producer and come out done.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EndToEndIT {

  private static final Duration WAIT = Duration.ofSeconds(120);
  private static final Duration STOP_GRACE = Duration.ofSeconds(10);
  private static final WireCodec codec = new WireCodec();
  private static final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static StandaloneStack stack;
  private static KafkaFixture kafka;
  private static Topics topics;
  private static String jdbcUser;
  private static String jdbcPassword;

  @BeforeAll
  static void start() throws Exception {
    TestInfrastructure infra = TestInfrastructure.get();
    topics = new Topics(infra.newTopicPrefix());
    jdbcUser = infra.username();
    jdbcPassword = infra.password();
    stack =
        StandaloneStack.start(
            new StandaloneStack.Options(
                Files.createTempDirectory("workron-e2e"),
                infra.kafkaBootstrapServers(),
                0,
                infra.newDatabase(),
                infra.username(),
                infra.password(),
                0,
                0,
                0,
                2,
                8,
                topics.prefix(),
                Map.of(
                    "workron.scheduler.retry-backoff-base", "100ms",
                    "workron.worker.memory-mb", "4096",
                    "workron.worker.stop-grace", STOP_GRACE.toSeconds() + "s",
                    "workron.worker.output-interval", "500ms")));
    kafka = new KafkaFixture(infra.kafkaBootstrapServers());
  }

  @AfterAll
  static void stop() {
    if (kafka != null) {
      kafka.close();
    }
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  void runsTwoHundredRestJobsAndTwoHundredKafkaJobsToDone() throws Exception {
    List<CompletableFuture<HttpResponse<String>>> posts = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      posts.add(
          sendAsync(
              post("/jobs", "{\"command\":\"echo rest " + i + "\"}"),
              HttpResponse.BodyHandlers.ofString()));
    }
    Set<String> ids = new HashSet<>();
    for (CompletableFuture<HttpResponse<String>> f : posts) {
      HttpResponse<String> response = f.join();
      assertThat(response.statusCode()).as(response.body()).isIn(201, 202);
      String location = response.headers().firstValue("Location").orElseThrow();
      ids.add(location.substring(location.lastIndexOf('/') + 1));
    }
    String example = exampleSubmission();
    for (int i = 0; i < 200; i++) {
      String id = "job-kafka-" + UUID.randomUUID();
      String doc = example.replace("job-example-0001", id).replace("example-0001", id);
      kafka.send(topics.submissions(), id, doc.getBytes(StandardCharsets.UTF_8));
      ids.add(id);
    }
    assertThat(ids).hasSize(400);

    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(500))
        .until(() -> idsWithStatus("done").containsAll(ids));
    JsonNode kafkaJob =
        job(ids.stream().filter(i -> i.startsWith("job-kafka-")).findFirst().orElseThrow());
    assertThat(kafkaJob.get("output").asString()).isEqualTo("HELLO FROM KAFKA\n");
    assertThat(kafkaJob.get("attempts").asInt()).isEqualTo(1);
    assertThat(idsWithStatus("failed")).doesNotContainAnyElementsOf(ids);
  }

  @Test
  void threeHundredJobsNoWorkerCanHoldDoNotStopTheJobBehindThem() throws Exception {
    List<String> stuck = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      String id = "job-too-big-" + UUID.randomUUID();
      stuck.add(id);
      kafka.send(
          topics.submissions(),
          id,
          ("{\"type\":\"job.submitted.v1\",\"id\":\"m-"
                  + id
                  + "\",\"time\":\"2026-11-29T12:00:00Z\",\"payload\":{\"id\":\""
                  + id
                  + "\",\"command\":\"true\",\"resources\":{\"memory_mb\":999999}}}")
              .getBytes(StandardCharsets.UTF_8));
    }
    long submitted = System.nanoTime();
    String behind = submit("{\"command\":\"echo ok\"}");

    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> "done".equals(job(behind).get("status").asString()));
    long tookMs = (System.nanoTime() - submitted) / 1_000_000;
    assertThat(job(behind).get("output").asString()).isEqualTo("ok\n");
    JsonNode waiting =
        await()
            .atMost(WAIT)
            .until(() -> job(stuck.get(299)), j -> j != null && j.has("wait_reason"));
    assertThat(waiting.get("status").asString()).isEqualTo("pending");
    assertThat(waiting.get("wait_reason").asString())
        .isEqualTo("no registered worker offers memory_mb 999999 (the most any offers is 4096)");
    System.out.println(
        "END-TO-END echo ok behind 300 jobs no worker can hold: done "
            + tookMs
            + " ms after submit");
  }

  /** Last, so the thousand jobs it leaves running do not slow the other tests down. */
  @Test
  @Order(Integer.MAX_VALUE)
  void aThousandConcurrentRestSubmissionsAreAllAcceptedAndEachIsStoredOnce() throws Exception {
    String marker = "burst-" + UUID.randomUUID();
    // a client that runs on a few threads of its own, so the test itself does not starve the stack
    HttpClient burst =
        HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(30))
            .executor(java.util.concurrent.Executors.newFixedThreadPool(2))
            .build();
    List<CompletableFuture<HttpResponse<String>>> posts = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      posts.add(
          burst.sendAsync(
              post("/jobs", "{\"command\":\"true " + marker + "\"}"),
              HttpResponse.BodyHandlers.ofString()));
    }
    Set<String> ids = new HashSet<>();
    int created = 0;
    for (CompletableFuture<HttpResponse<String>> f : posts) {
      HttpResponse<String> response = f.join();
      assertThat(response.statusCode()).as(response.body()).isIn(201, 202);
      created += response.statusCode() == 201 ? 1 : 0;
      String location = response.headers().firstValue("Location").orElseThrow();
      ids.add(location.substring(location.lastIndexOf('/') + 1));
    }
    assertThat(ids).hasSize(1000);
    System.out.println(
        "END-TO-END burst of 1000 POST /jobs: " + created + " answered 201, the rest 202");

    String stored = "select count(*) from jobs where command = 'true " + marker + "'";
    await().atMost(WAIT).until(() -> count(stored) >= 1000);
    assertThat(count(stored)).isEqualTo(1000);
    assertThat(
            count(
                "select count(*) from jobs where id in ('"
                    + String.join("','", ids)
                    + "') and command = 'true "
                    + marker
                    + "'"))
        .isEqualTo(1000);
  }

  @Test
  void aCommandExitingThreeEndsFailedWithExitCodeThreeAndItsOutput() throws Exception {
    String id = submit("{\"command\":\"echo oops; exit 3\",\"max_retries\":1}");

    await().atMost(WAIT).until(() -> "failed".equals(job(id).get("status").asString()));
    JsonNode job = job(id);
    assertThat(job.get("exit_code").asInt()).isEqualTo(3);
    assertThat(job.get("output").asString()).isEqualTo("oops\n");
    assertThat(job.get("failure_reason").asString()).isEqualTo("exit code 3");

    // found again by what a person filters on: its worker, queue and a piece of its id
    String worker = job.get("worker_id").asString();
    JsonNode found =
        get(
            "/jobs?worker="
                + worker
                + "&queue=default&status=failed&id_prefix="
                + id.substring(0, id.length() - 4)
                + "&limit=1000");
    List<String> ids = new ArrayList<>();
    found.forEach(j -> ids.add(j.get("id").asString()));
    assertThat(ids).contains(id);
    assertThat(get("/jobs?worker=" + worker + "&id_prefix=" + id + "x")).isEmpty();
    HttpResponse<String> bad =
        send(
            HttpRequest.newBuilder(uri("/jobs?order=sideways")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("order");
  }

  @Test
  void aFailingJobIsRetriedUpToMaxRetriesAttempts() throws Exception {
    String id = submit("{\"command\":\"exit 1\",\"max_retries\":2}");

    await().atMost(WAIT).until(() -> "failed".equals(job(id).get("status").asString()));
    assertThat(job(id).get("attempts").asInt()).isEqualTo(2);
    assertThat(job(id).get("attempt_history")).hasSize(2);
  }

  /**
   * Standalone runs without authentication, so every port it opens (REST, scheduler-core, the
   * workers, Kafka, PostgreSQL) must listen on loopback only: read from the kernel's socket table.
   */
  @Test
  void everyPortStandaloneOpensListensOnLoopbackOnly() throws Exception {
    List<Integer> ports = new ArrayList<>();
    ports.add(stack.gatewayPort());
    ports.add(stack.schedulerPort());
    ports.addAll(stack.workerPorts());
    ports.add(Integer.parseInt(stack.kafkaBootstrap().replaceAll(".*:", "")));
    java.util.regex.Matcher pg =
        java.util.regex.Pattern.compile("//[^/:]+:(\\d+)/").matcher(stack.jdbcUrl());
    assertThat(pg.find()).as("port in %s", stack.jdbcUrl()).isTrue();
    ports.add(Integer.parseInt(pg.group(1)));

    Map<Integer, List<String>> listening = new java.util.TreeMap<>();
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of(table))) {
        String[] f = line.trim().split("\\s+");
        if (f.length > 3 && "0A".equals(f[3])) { // LISTEN
          String[] local = f[1].split(":");
          int port = Integer.parseInt(local[1], 16);
          if (ports.contains(port)) {
            listening.computeIfAbsent(port, k -> new ArrayList<>()).add(local[0]);
          }
        }
      }
    }
    assertThat(listening.keySet()).as("ports with a listening socket").containsAll(ports);
    // 127.0.0.1, ::1 and ::ffff:127.0.0.1 as the kernel writes them (32-bit words, host order)
    Set<String> loopback =
        Set.of("0100007F", "00000000000000000000000001000000", "0000000000000000FFFF00000100007F");
    listening.forEach(
        (port, addresses) ->
            assertThat(addresses)
                .as("addresses port %d listens on", port)
                .allMatch(loopback::contains));
  }

  @Test
  void aShellPipelineRuns() throws Exception {
    String id = submit("{\"command\":\"echo a | tr a b\"}");

    await().atMost(WAIT).until(() -> "done".equals(job(id).get("status").asString()));
    assertThat(job(id).get("output").asString()).isEqualTo("b\n");
  }

  @Test
  void theJobSeesItsIdAndAttemptInItsEnvironment() throws Exception {
    String id = submit("{\"command\":\"echo $WORKRON_JOB_ID/$WORKRON_ATTEMPT\"}");

    await().atMost(WAIT).until(() -> "done".equals(job(id).get("status").asString()));
    assertThat(job(id).get("output").asString()).isEqualTo(id + "/1\n");
  }

  @Test
  void aRedeliveredSubmissionDoesNotCreateOrRunASecondJob() throws Exception {
    String id = "job-redelivered-" + UUID.randomUUID();
    byte[] doc =
        exampleSubmission()
            .replace("job-example-0001", id)
            .replace("example-0001", id)
            .getBytes(StandardCharsets.UTF_8);
    kafka.send(topics.submissions(), id, doc);
    await()
        .atMost(WAIT)
        .until(() -> job(id) != null && "done".equals(job(id).get("status").asString()));

    kafka.send(topics.submissions(), id, doc);
    String after = "job-after-" + UUID.randomUUID();
    kafka.send(
        topics.submissions(),
        id,
        exampleSubmission()
            .replace("job-example-0001", after)
            .replace("example-0001", after)
            .getBytes(StandardCharsets.UTF_8));
    await().atMost(WAIT).until(() -> job(after) != null);

    JsonNode job = job(id);
    assertThat(job.get("status").asString()).isEqualTo("done");
    assertThat(job.get("attempts").asInt()).isEqualTo(1);
    assertThat(job.get("attempt_history")).hasSize(1);
    assertThat(idsWithStatus("done").stream().filter(id::equals)).hasSize(1);
  }

  @Test
  @Order(Integer.MAX_VALUE - 1)
  void everySeriesTheDashboardAndTheAlertsReadIsOnALiveScrape() throws Exception {
    Set<String> wanted =
        OpsConfigTest.seriesIn(
            String.join("\n", OpsConfigTest.dashboardQueries().values())
                + "\n"
                + String.join("\n", OpsConfigTest.alerts().values()));
    List<Integer> ports = new ArrayList<>(stack.workerPorts());
    ports.add(stack.schedulerPort());
    ports.add(stack.gatewayPort());
    // the Kafka gauges come from the broker every 15 s: wait for one refresh
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofSeconds(1))
        .untilAsserted(
            () -> {
              Set<String> scraped = new HashSet<>();
              for (int port : ports) {
                HttpResponse<String> response =
                    send(
                        HttpRequest.newBuilder(
                                java.net.URI.create(
                                    "http://127.0.0.1:" + port + "/actuator/prometheus"))
                            .build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(response.statusCode()).isEqualTo(200);
                response
                    .body()
                    .lines()
                    .filter(l -> !l.startsWith("#") && !l.isBlank())
                    .forEach(l -> scraped.add(l.split("[{ ]", 2)[0]));
              }
              assertThat(scraped).containsAll(wanted);
            });
  }

  @Test
  void bothWorkersAreRegisteredAndTheGatewayIsHealthy() throws Exception {
    await()
        .atMost(WAIT)
        .until(
            () -> {
              JsonNode workers = get("/workers");
              Set<String> active = new HashSet<>();
              workers.forEach(
                  w -> {
                    if ("active".equals(w.get("status").asString())) {
                      active.add(w.get("id").asString());
                    }
                  });
              return active.containsAll(stack.workerIds());
            });
    JsonNode health = get("/health");
    assertThat(health.get("status").asString()).isEqualTo("ok");
    assertThat(health.get("instance_id").asString()).hasSize(8);
  }

  @Test
  void aDrainedWorkerGetsNoNewJobsWhileTheOtherRunsThemAndTakesWorkAgainOnceResumed()
      throws Exception {
    await().atMost(WAIT).until(() -> activeWorkers().containsAll(stack.workerIds()));
    String drained = stack.workerIds().get(0);
    String other = stack.workerIds().get(1);
    try {
      HttpResponse<String> answer = postEmpty("/workers/" + drained + "/drain");
      assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
      assertThat(codec.mapper().readTree(answer.body()).get("drained").asBoolean()).isTrue();

      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        ids.add(submit("{\"command\":\"true\"}"));
      }
      for (String id : ids) {
        await().atMost(WAIT).until(() -> "done".equals(job(id).get("status").asString()));
        assertThat(job(id).get("attempt_history").get(0).get("worker_id").asString())
            .isEqualTo(other);
      }
      assertThat(workerView(drained).get("drained").asBoolean()).isTrue();
      assertThat(workerView(drained).get("status").asString()).isEqualTo("active");
    } finally {
      HttpResponse<String> resumed = postEmpty("/workers/" + drained + "/resume");
      assertThat(resumed.statusCode()).as(resumed.body()).isEqualTo(200);
      assertThat(codec.mapper().readTree(resumed.body()).get("drained").asBoolean()).isFalse();
    }
    HttpResponse<String> unknown = postEmpty("/workers/no-such-worker/drain");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(unknown.headers().firstValue("Content-Type"))
        .hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
  }

  @Test
  void aCancelledRunningSleepIsGoneWithTheChildItStartedAndItsDependentIsCancelled()
      throws Exception {
    Path dir = Files.createTempDirectory("workron-cancel");
    String id =
        submit(
            "{\"command\":\"echo $$ > "
                + dir
                + "/shell; sleep 600 & echo $! > "
                + dir
                + "/child; wait\"}");
    String dependent = submit("{\"command\":\"true\",\"depends_on\":[\"" + id + "\"]}");
    await()
        .atMost(WAIT)
        .until(() -> Files.exists(dir.resolve("child")) && Files.size(dir.resolve("child")) > 0);
    long shell = Long.parseLong(Files.readString(dir.resolve("shell")).trim());
    long child = Long.parseLong(Files.readString(dir.resolve("child")).trim());
    assertThat(alive(shell)).isTrue();
    assertThat(alive(child)).isTrue();

    HttpResponse<String> answer =
        postJson("/jobs/" + id + "/cancel", "{\"reason\":\"not needed\"}");

    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
    assertThat(codec.mapper().readTree(answer.body()).has("cancel_requested_at")).isTrue();
    // SIGTERM to the process group (SIGKILL only after stop-grace): both are gone
    await().atMost(WAIT).until(() -> !alive(shell) && !alive(child));
    await().atMost(WAIT).until(() -> "cancelled".equals(job(id).get("status").asString()));
    // ended by the SIGTERM itself, well within stop-grace, not by the SIGKILL after it
    assertThat(job(id).get("attempt_history").get(0).get("exit_code").asInt()).isEqualTo(143);
    assertThat(job(id).get("failure_reason").asString()).isEqualTo("not needed");
    assertThat(job(id).get("attempts").asInt()).isEqualTo(1);
    assertThat(job(dependent).get("status").asString()).isEqualTo("cancelled");
    assertThat(job(dependent).get("failure_reason").asString())
        .isEqualTo("upstream job " + id + " was cancelled");

    HttpResponse<String> again = postJson("/jobs/" + id + "/cancel", "");
    assertThat(again.statusCode()).isEqualTo(200);
    HttpResponse<String> unknown = postJson("/jobs/job-never-submitted/cancel", "");
    assertThat(unknown.statusCode()).isEqualTo(404);
  }

  @Test
  void aCancelOverKafkaStopsAJobSubmittedOverKafka() throws Exception {
    String id = "job-kafka-cancel-" + UUID.randomUUID();
    String doc =
        exampleSubmission()
            .replace("job-example-0001", id)
            .replace("example-0001", id)
            .replaceFirst("\"command\":\"[^\"]*\"", "\"command\":\"sleep 600\"");
    kafka.send(topics.submissions(), id, doc.getBytes(StandardCharsets.UTF_8));
    await()
        .atMost(WAIT)
        .until(() -> job(id) != null && "running".equals(job(id).get("status").asString()));

    String cancel =
        "{\"type\":\"job.cancel.v1\",\"id\":\"c-"
            + id
            + "\",\"time\":\"2026-12-01T12:00:00Z\",\"payload\":{\"job_id\":\""
            + id
            + "\",\"reason\":\"from another service\"}}";
    kafka.send(topics.submissions(), id, cancel.getBytes(StandardCharsets.UTF_8));

    await().atMost(WAIT).until(() -> "cancelled".equals(job(id).get("status").asString()));
    assertThat(job(id).get("failure_reason").asString()).isEqualTo("from another service");
  }

  @Test
  void aJobPastItsTimeoutIsStoppedRetriedAndThenFailsAsTimedOut() throws Exception {
    String marker = "sleep 30." + (System.nanoTime() % 1000);
    String id = submit("{\"command\":\"" + marker + "\",\"timeout_seconds\":2,\"max_retries\":2}");

    await().atMost(WAIT).until(() -> "failed".equals(job(id).get("status").asString()));

    JsonNode job = job(id);
    assertThat(job.get("timeout_seconds").asInt()).isEqualTo(2);
    assertThat(job.get("failure_reason").asString()).isEqualTo("timed out after 2 s");
    assertThat(job.get("attempts").asInt()).isEqualTo(2);
    for (JsonNode attempt : job.get("attempt_history")) {
      assertThat(attempt.get("outcome").asString()).isEqualTo("failed");
      assertThat(attempt.get("reason").asString()).isEqualTo("timed out after 2 s");
    }
    assertThat(
            ProcessHandle.allProcesses()
                .anyMatch(p -> p.info().commandLine().map(c -> c.contains(marker)).orElse(false)))
        .isFalse();
  }

  @Test
  void aQueueWithMaxRunningTwoNeverRunsThreeAtOnceAndAPausedQueueHoldsItsJobs() throws Exception {
    HttpResponse<String> set = put("/queues/two-at-a-time", "{\"max_running\":2}");
    assertThat(set.statusCode()).as(set.body()).isEqualTo(200);
    Path log = Files.createTempFile("workron-queue", ".log");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      ids.add(
          submit(
              "{\"command\":\"echo start $(date +%s%N) >> "
                  + log
                  + "; sleep 0.3; echo end $(date +%s%N) >> "
                  + log
                  + "\",\"queue_name\":\"two-at-a-time\"}"));
    }
    for (String id : ids) {
      await().atMost(WAIT).until(() -> "done".equals(job(id).get("status").asString()));
    }
    // replay the log: never more than two commands of the queue between their start and end
    int running = 0;
    int most = 0;
    List<String[]> events = new ArrayList<>();
    for (String line : Files.readAllLines(log)) {
      events.add(line.split(" "));
    }
    events.sort(java.util.Comparator.comparingLong(e -> Long.parseLong(e[1])));
    for (String[] e : events) {
      running += e[0].equals("start") ? 1 : -1;
      most = Math.max(most, running);
    }
    assertThat(events).hasSize(12);
    assertThat(most).isBetween(1, 2);

    assertThat(postJson("/queues/held-back/pause", "").statusCode()).isEqualTo(200);
    String held = submit("{\"command\":\"true\",\"queue_name\":\"held-back\"}");
    await().atMost(WAIT).until(() -> "pending".equals(job(held).get("status").asString()));
    String other = submit("{\"command\":\"true\"}");
    await().atMost(WAIT).until(() -> "done".equals(job(other).get("status").asString()));
    assertThat(job(held).get("status").asString()).isEqualTo("pending");
    JsonNode queue = null;
    for (JsonNode q : get("/queues")) {
      if (q.get("name").asString().equals("held-back")) {
        queue = q;
      }
    }
    assertThat(queue).isNotNull();
    assertThat(queue.get("paused").asBoolean()).isTrue();
    assertThat(queue.get("counts").get("pending").asInt()).isEqualTo(1);
    assertThat(postJson("/queues/held-back/resume", "").statusCode()).isEqualTo(200);
    await().atMost(WAIT).until(() -> "done".equals(job(held).get("status").asString()));
  }

  @Test
  void aScheduleFiresJobsThatRunAndStopsWhenDeleted() throws Exception {
    HttpResponse<String> created =
        postJson(
            "/schedules",
            "{\"name\":\"e2e-every-2s\",\"cron\":\"*/2 * * * * *\",\"overlap\":\"allow\","
                + "\"job\":{\"command\":\"echo fired\"}}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String fired;
    try {
      fired =
          await()
              .atMost(WAIT)
              .until(
                  () -> {
                    JsonNode s = get("/schedules/e2e-every-2s");
                    return s.has("last_job_id") ? s.get("last_job_id").asString() : null;
                  },
                  java.util.Objects::nonNull);
    } finally {
      HttpResponse<String> deleted =
          send(
              HttpRequest.newBuilder(uri("/schedules/e2e-every-2s")).DELETE().build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(deleted.statusCode()).isEqualTo(204);
    }
    await().atMost(WAIT).until(() -> "done".equals(job(fired).get("status").asString()));
    assertThat(job(fired).get("output").asString()).isEqualTo("fired\n");
  }

  @Test
  void theOutputOfARunningJobCanBeReadWhileItRuns() throws Exception {
    String id = submit("{\"command\":\"echo started; sleep 600\"}");
    try {
      await()
          .atMost(WAIT)
          .until(
              () ->
                  send(
                          HttpRequest.newBuilder(uri("/jobs/" + id + "/output")).build(),
                          HttpResponse.BodyHandlers.ofString())
                      .body(),
              "started\n"::equals);
      assertThat(job(id).get("status").asString()).isEqualTo("running");
      HttpResponse<String> plain =
          send(
              HttpRequest.newBuilder(uri("/jobs/" + id + "/output")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(plain.headers().firstValue("Content-Type"))
          .hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
    } finally {
      postJson("/jobs/" + id + "/cancel", "");
    }
    HttpResponse<String> unknown =
        send(
            HttpRequest.newBuilder(uri("/jobs/job-never-submitted/output")).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(unknown.statusCode()).isEqualTo(404);
  }

  @Test
  void aRefusedKafkaMessageIsListedAmongTheDeadLettersWithWhyAndCanBeReplayedOnce()
      throws Exception {
    String key = "not-a-job-" + UUID.randomUUID();
    kafka.send(
        topics.submissions(),
        key,
        "{\"type\":\"job.submitted.v1\"".getBytes(StandardCharsets.UTF_8));
    String deadTopic = Topics.deadLetter(topics.submissions());
    JsonNode letter =
        await()
            .atMost(WAIT)
            .until(() -> deadLetterWithKey(topics.submissions(), key), l -> l != null);
    assertThat(letter.path("topic").asString()).isEqualTo(deadTopic);
    assertThat(letter.path("reason").asString()).isEqualTo("MALFORMED_JSON");
    assertThat(letter.path("error").asString()).isNotBlank();
    assertThat(letter.path("replayable").asBoolean()).isTrue();
    String at = "/dead-letters/" + deadTopic + "/0/" + letter.path("offset").asLong();
    assertThat(get(at).path("value").asString()).isEqualTo("{\"type\":\"job.submitted.v1\"");

    HttpResponse<String> replayed = postEmpty(at + "/replay");
    assertThat(replayed.statusCode()).as(replayed.body()).isEqualTo(200);
    String to = codec.mapper().readTree(replayed.body()).path("replayed_to").asString();
    assertThat(to).startsWith(topics.submissions() + "/");
    // nothing was fixed, so it is refused again: a new dead letter of the replayed record
    await()
        .atMost(WAIT)
        .until(
            () -> {
              for (JsonNode l : get("/dead-letters?topic=" + deadTopic).path("dead_letters")) {
                if (to.equals(l.path("origin").asString(null))) {
                  return true;
                }
              }
              return false;
            });
    assertThat(deadLetterWithKey(deadTopic, key).path("origin").asString()).isEqualTo(to);
    HttpResponse<String> twice = postEmpty(at + "/replay");
    assertThat(twice.statusCode()).isEqualTo(409);
    assertThat(postEmpty(at + "/replay?again=maybe").statusCode()).isEqualTo(400);
    assertThat(
            send(
                    HttpRequest.newBuilder(
                            uri("/dead-letters?topic=" + topics.jobEvents() + ".dlq.dlq"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .statusCode())
        .isEqualTo(400);
  }

  /** The newest dead letter with this key among the first page of {@code topic}'s, or null. */
  private static JsonNode deadLetterWithKey(String topic, String key) throws Exception {
    for (JsonNode l : get("/dead-letters?limit=200&topic=" + topic).path("dead_letters")) {
      if (key.equals(l.path("key").asString(null))) {
        return l;
      }
    }
    return null;
  }

  // --- helpers

  private static HttpResponse<String> put(String path, String body) throws Exception {
    return send(
        HttpRequest.newBuilder(uri(path))
            .header("Content-Type", "application/json")
            .timeout(Duration.ofSeconds(30))
            .PUT(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static boolean alive(long pid) {
    return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
  }

  private static HttpResponse<String> postJson(String path, String body) throws Exception {
    return send(post(path, body), HttpResponse.BodyHandlers.ofString());
  }

  private static Set<String> activeWorkers() throws Exception {
    Set<String> active = new HashSet<>();
    get("/workers")
        .forEach(
            w -> {
              if ("active".equals(w.get("status").asString())) {
                active.add(w.get("id").asString());
              }
            });
    return active;
  }

  private static JsonNode workerView(String id) throws Exception {
    for (JsonNode w : get("/workers")) {
      if (id.equals(w.get("id").asString())) {
        return w;
      }
    }
    throw new AssertionError("GET /workers does not list " + id);
  }

  private static HttpResponse<String> postEmpty(String path) throws Exception {
    return send(
        HttpRequest.newBuilder(uri(path))
            .timeout(Duration.ofSeconds(30))
            .POST(HttpRequest.BodyPublishers.noBody())
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aGangOverRestRunsOnBothWorkersAndAfterATaskFailsResumesFromItsCheckpoints()
      throws Exception {
    String script =
        java.nio.file.Path.of("..", "examples", "train.sh").toAbsolutePath().normalize().toString();
    HttpResponse<String> created =
        send(
            post(
                "/jobs",
                "{\"command\":\"STEPS=6 STEP_SECONDS=0.5 FAIL_RANK=1 FAIL_AT_STEP=3 sh "
                    + script
                    + "\",\"gang_size\":2}"),
            HttpResponse.BodyHandlers.ofString());
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    JsonNode answer = codec.mapper().readTree(created.body());
    String gang = answer.get("gang_id").asString();
    assertThat(answer.get("tasks").get(1).asString()).isEqualTo(gang + "-1");

    await()
        .atMost(WAIT)
        .until(() -> "done".equals(get("/gangs/" + gang + "/summary").get("status").asString()));
    JsonNode drain = get("/gangs/" + gang + "/summary").get("drains").get(0);
    assertThat(drain.get("trigger_job").asString()).isEqualTo(gang + "-1");
    assertThat(drain.get("acks").asInt()).isEqualTo(1);
    assertThat(drain.get("outcome").asString()).isEqualTo("blocked");
    JsonNode tasks = get("/gangs/" + gang);
    assertThat(tasks.get(0).get("worker_id").asString())
        .isNotEqualTo(tasks.get(1).get("worker_id").asString());
    for (JsonNode t : tasks) {
      assertThat(t.get("attempts").asInt()).isEqualTo(2);
      // task 1 failed at step 3; task 0 was stopped about then: each resumes where it was
      java.util.regex.Matcher resumed =
          java.util.regex.Pattern.compile(
                  "^rank \\d of 2 \\(attempt 2, epoch 1\\) starts at step (\\d+);")
              .matcher(t.get("output").asString());
      assertThat(resumed.find()).as(t.get("output").asString()).isTrue();
      int step = Integer.parseInt(resumed.group(1));
      if (t.get("gang_index").asInt() == 1) {
        assertThat(step).isEqualTo(3);
      } else {
        assertThat(step).isBetween(1, 6);
      }
      HttpResponse<String> checkpoint =
          send(
              HttpRequest.newBuilder(uri("/jobs/" + t.get("id").asString() + "/checkpoint"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(checkpoint.statusCode()).isEqualTo(200);
      assertThat(checkpoint.body()).isEqualTo("step=6\n");
    }
  }

  private static String exampleSubmission() throws Exception {
    try (InputStream in =
        EndToEndIT.class.getResourceAsStream(MessageType.JOB_SUBMITTED.exampleResource())) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** Sends to the gateway, and checks the exchange against the committed OpenAPI document. */
  private static HttpResponse<String> send(
      HttpRequest request, HttpResponse.BodyHandler<String> handler) throws Exception {
    HttpResponse<String> response = http.send(request, handler);
    io.workron.testsupport.OpenApiContract.check(request, response);
    return response;
  }

  private static CompletableFuture<HttpResponse<String>> sendAsync(
      HttpRequest request, HttpResponse.BodyHandler<String> handler) {
    return http.sendAsync(request, handler)
        .thenApply(
            response -> {
              io.workron.testsupport.OpenApiContract.check(request, response);
              return response;
            });
  }

  private static HttpRequest post(String path, String body) {
    return HttpRequest.newBuilder(uri(path))
        .header("Content-Type", "application/json")
        .timeout(Duration.ofSeconds(30))
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
  }

  private static String submit(String body) throws Exception {
    HttpResponse<String> response = send(post("/jobs", body), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isIn(201, 202);
    String location = response.headers().firstValue("Location").orElseThrow();
    return location.substring(location.lastIndexOf('/') + 1);
  }

  private static JsonNode job(String id) throws Exception {
    HttpResponse<String> response =
        send(
            HttpRequest.newBuilder(uri("/jobs/" + id)).build(),
            HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() == 404) {
      return null;
    }
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return codec.mapper().readTree(response.body());
  }

  private static JsonNode get(String path) throws Exception {
    HttpResponse<String> response =
        send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return codec.mapper().readTree(response.body());
  }

  /** Every job id with {@code status}, read page by page through the public list API. */
  private static List<String> idsWithStatus(String status) throws Exception {
    List<String> ids = new ArrayList<>();
    String cursor = null;
    do {
      HttpResponse<String> response =
          send(
              HttpRequest.newBuilder(
                      uri(
                          "/jobs?status="
                              + status
                              + "&limit=1000"
                              + (cursor == null ? "" : "&cursor=" + cursor)))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      codec.mapper().readTree(response.body()).forEach(j -> ids.add(j.get("id").asString()));
      cursor = response.headers().firstValue("X-Next-Cursor").orElse(null);
    } while (cursor != null);
    return ids;
  }

  private static long count(String sql) throws Exception {
    try (Connection c = DriverManager.getConnection(stack.jdbcUrl(), jdbcUser, jdbcPassword);
        ResultSet rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static URI uri(String path) {
    return URI.create("http://127.0.0.1:" + stack.gatewayPort() + path);
  }
}
