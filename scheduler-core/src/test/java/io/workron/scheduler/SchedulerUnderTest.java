package io.workron.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import io.workron.schemas.JobDispatch;
import io.workron.schemas.JobResult;
import io.workron.schemas.JobSubmission;
import io.workron.schemas.MessageType;
import io.workron.schemas.Resources;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import io.workron.schemas.WorkerHeartbeat;
import io.workron.testsupport.KafkaFixture;
import io.workron.testsupport.TestInfrastructure;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

/**
 * One scheduler-core on the shared real PostgreSQL and broker (a database and topic prefix of its
 * own), and the test playing everybody else on the wire: submitting services and workers.
 */
final class SchedulerUnderTest implements AutoCloseable {

  private static final AtomicLong seq = new AtomicLong();

  /** The shared token of the internal API, as the gateway sends it; every call here carries it. */
  static final String INTERNAL_TOKEN = "internal-token-of-the-scheduler-tests";

  final WireCodec codec = new WireCodec();
  final TestInfrastructure infra = TestInfrastructure.get();
  final Topics topics;
  final String jdbcUrl;
  final ConfigurableApplicationContext app;
  final KafkaFixture kafka;
  private final int port;
  private final HttpClient http = HttpClient.newHttpClient();

  SchedulerUnderTest(String... extraArgs) {
    this(TestInfrastructure.get().newDatabase(), null, extraArgs);
  }

  /** A second replica of {@code first}: the same database and topics. */
  SchedulerUnderTest(SchedulerUnderTest first, String... extraArgs) {
    this(first.jdbcUrl, first.topics, extraArgs);
  }

  private SchedulerUnderTest(String database, Topics sharedTopics, String... extraArgs) {
    this.jdbcUrl = database;
    this.topics = sharedTopics != null ? sharedTopics : new Topics(infra.newTopicPrefix());
    String[] args =
        Stream.concat(
                Stream.of(
                    "--server.port=0",
                    "--workron.internal-api.token=" + INTERNAL_TOKEN,
                    "--spring.datasource.url=" + jdbcUrl,
                    "--spring.datasource.username=" + infra.username(),
                    "--spring.datasource.password=" + infra.password(),
                    "--spring.kafka.bootstrap-servers=" + infra.kafkaBootstrapServers(),
                    "--workron.topic-prefix=" + topics.prefix()),
                Stream.of(extraArgs))
            .toArray(String[]::new);
    app = SchedulerCoreApplication.builder().run(args);
    port = app.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
    kafka = new KafkaFixture(infra.kafkaBootstrapServers());
  }

  /**
   * The tests of a class share one scheduler-core; jobs another test left unfinished would take the
   * slots of this test's workers, so each test starts with none, and with no live worker.
   */
  void finishWhatOtherTestsLeft() throws Exception {
    // first let scheduler-core process whatever earlier tests sent, so nothing arrives afterwards
    for (String topic : List.of(topics.submissions(), topics.heartbeats(), topics.results())) {
      String group = topics.prefix() + "-scheduler-" + topic.substring(topic.lastIndexOf('.') + 1);
      kafka.awaitConsumed(group, topic, java.time.Duration.ofSeconds(30));
    }
    try (Connection c = DriverManager.getConnection(jdbcUrl, infra.username(), infra.password())) {
      c.createStatement()
          .execute(
              "update jobs set status = 'cancelled' where status in "
                  + "('pending', 'blocked', 'running', 'reserved', 'preempting', 'preempted')");
      c.createStatement()
          .execute(
              "update gangs set finished_at = now(), wait_reason = null where finished_at is null");
      c.createStatement().execute("update workers set status = 'offline'");
    }
  }

  static String newJobId() {
    return "job-it-" + System.nanoTime() + "-" + seq.incrementAndGet();
  }

  /** A fresh worker id with its dispatch topic created, as the worker runtime would. */
  String worker(String name) {
    String id = name + "-" + UUID.randomUUID().toString().substring(0, 6);
    kafka.createTopic(topics.dispatch(id), 1);
    return id;
  }

  byte[] submission(String id, String command, Integer maxRetries, String queue) {
    JobSubmission s = new JobSubmission(id, command, null, null, null, queue, maxRetries, null);
    return codec.encode(WireCodec.envelope(MessageType.JOB_SUBMITTED, "m-" + id, Instant.now(), s));
  }

  static byte[] submissionJson(String payload) {
    return ("{\"type\":\"job.submitted.v1\",\"id\":\"m-"
            + UUID.randomUUID()
            + "\",\"time\":\"2026-11-29T12:00:00Z\",\"payload\":"
            + payload
            + "}")
        .getBytes(StandardCharsets.UTF_8);
  }

  /** Submits a job through Kafka and returns its id. */
  String submit(String command, Integer maxRetries) {
    String id = newJobId();
    kafka.send(topics.submissions(), id, submission(id, command, maxRetries, null));
    return id;
  }

  void heartbeat(
      String worker,
      String incarnation,
      int slots,
      List<WorkerHeartbeat.RunningAttempt> running,
      WorkerHeartbeat.State state) {
    kafka.send(
        topics.heartbeats(), worker, heartbeatBytes(worker, incarnation, slots, running, state));
  }

  /** A heartbeat of a worker that offers {@code resources}. */
  void heartbeat(
      String worker,
      String incarnation,
      int slots,
      List<WorkerHeartbeat.RunningAttempt> running,
      WorkerHeartbeat.State state,
      Resources resources) {
    kafka.send(
        topics.heartbeats(),
        worker,
        heartbeatBytes(worker, incarnation, slots, running, state, resources));
  }

  byte[] heartbeatBytes(
      String worker,
      String incarnation,
      int slots,
      List<WorkerHeartbeat.RunningAttempt> running,
      WorkerHeartbeat.State state) {
    return heartbeatBytes(worker, incarnation, slots, running, state, Resources.NONE);
  }

  byte[] heartbeatBytes(
      String worker,
      String incarnation,
      int slots,
      List<WorkerHeartbeat.RunningAttempt> running,
      WorkerHeartbeat.State state,
      Resources resources) {
    WorkerHeartbeat hb =
        new WorkerHeartbeat(
            worker, incarnation, slots, resources, List.of(), "", List.copyOf(running), state);
    return codec.encode(
        WireCodec.envelope(
            MessageType.WORKER_HEARTBEAT, "hb-" + UUID.randomUUID(), Instant.now(), hb));
  }

  void result(JobDispatch d, JobResult.Outcome outcome, int exitCode, String output) {
    result(d, outcome, exitCode, output, null);
  }

  /** A result as a worker that was ordered to stop the attempt reports it ({@code stopCause}). */
  void result(
      JobDispatch d,
      JobResult.Outcome outcome,
      int exitCode,
      String output,
      io.workron.schemas.StopCause stopCause) {
    result(d, outcome, exitCode, output, stopCause, null);
  }

  /** A result with the worker's own reason. */
  void result(
      JobDispatch d,
      JobResult.Outcome outcome,
      int exitCode,
      String output,
      io.workron.schemas.StopCause stopCause,
      String reason) {
    Instant now = Instant.now();
    JobResult r =
        new JobResult(
            d.jobId(),
            d.attempt(),
            d.workerId(),
            d.incarnation(),
            outcome,
            exitCode,
            now,
            now,
            0L,
            output,
            false,
            reason,
            stopCause);
    kafka.send(
        topics.results(),
        d.jobId(),
        codec.encode(WireCodec.envelope(MessageType.JOB_RESULT, "r-" + UUID.randomUUID(), now, r)));
  }

  /** Reads dispatches as a worker would; one its own schema refuses fails the test. */
  /** The dispatches scheduler-core sends to {@code worker}, from the start of its topic. */
  KafkaFixture.TopicReader readDispatches(String worker) {
    return kafka.read(topics.dispatch(worker), r -> isType(r, MessageType.JOB_DISPATCH));
  }

  /** The stop orders scheduler-core sends to {@code worker}, from the start of its topic. */
  KafkaFixture.TopicReader readStops(String worker) {
    return kafka.read(topics.dispatch(worker), r -> isType(r, MessageType.JOB_STOP));
  }

  private boolean isType(ConsumerRecord<String, byte[]> record, MessageType<?> type) {
    try {
      codec.decode(record.value(), type);
      return true;
    } catch (io.workron.schemas.InvalidMessageException e) {
      if (e.reason() == io.workron.schemas.InvalidMessageException.Reason.WRONG_TYPE) {
        return false;
      }
      throw new AssertionError("scheduler-core wrote a message its own schema refuses", e);
    }
  }

  List<io.workron.schemas.JobStop> stops(List<ConsumerRecord<String, byte[]>> records) {
    List<io.workron.schemas.JobStop> out = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> r : records) {
      try {
        out.add(codec.decode(r.value(), MessageType.JOB_STOP).payload());
      } catch (Exception e) {
        throw new AssertionError("scheduler-core wrote a stop its own schema refuses", e);
      }
    }
    return out;
  }

  List<JobDispatch> dispatches(List<ConsumerRecord<String, byte[]>> records) {
    List<JobDispatch> out = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> r : records) {
      try {
        out.add(codec.decode(r.value(), MessageType.JOB_DISPATCH).payload());
      } catch (Exception e) {
        throw new AssertionError("scheduler-core wrote a dispatch its own schema refuses", e);
      }
    }
    return out;
  }

  /** The job as the query API shows it, or null while it is unknown. */
  JsonNode job(String id) {
    try {
      HttpResponse<String> response =
          http.send(
              authorized(uri("/internal/jobs/" + id)).build(),
              HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() == 404) {
        return null;
      }
      assertThat(response.statusCode()).isEqualTo(200);
      return codec.mapper().readTree(response.body());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A request to the internal API with the shared token, as the gateway makes it. */
  private static HttpRequest.Builder authorized(URI uri) {
    return HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + INTERNAL_TOKEN);
  }

  /** {@code GET path} with exactly these headers (name, value, ...): no token unless given. */
  HttpResponse<String> getWith(String path, String... headers) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(uri(path));
    if (headers.length > 0) {
      request.headers(headers);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** {@code POST path} without the internal API's token. */
  HttpResponse<String> postWithout(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  String status(String id) {
    JsonNode j = job(id);
    return j == null ? null : j.get("status").asString();
  }

  JsonNode get(String path) throws Exception {
    HttpResponse<String> response =
        http.send(authorized(uri(path)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(200);
    return codec.mapper().readTree(response.body());
  }

  HttpResponse<String> post(String path, String json) throws Exception {
    return http.send(
        authorized(uri(path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** As the gateway calls: with its request id. */
  HttpResponse<String> post(String path, String json, String requestId) throws Exception {
    return http.send(
        authorized(uri(path))
            .header("Content-Type", "application/json")
            .header("X-Request-ID", requestId)
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** As the gateway calls for a caller: with its request id and the name of the caller's token. */
  HttpResponse<String> post(String path, String json, String requestId, String actor)
      throws Exception {
    return http.send(
        authorized(uri(path))
            .header("Content-Type", "application/json")
            .header("X-Request-ID", requestId)
            .header("X-Workron-Actor", actor)
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> put(String path, String json) throws Exception {
    return http.send(
        authorized(uri(path))
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString(json))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> delete(String path) throws Exception {
    return http.send(authorized(uri(path)).DELETE().build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> getResponse(String path) throws Exception {
    return http.send(authorized(uri(path)).build(), HttpResponse.BodyHandlers.ofString());
  }

  int statusCode(String path) throws Exception {
    return http.send(authorized(uri(path)).build(), HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  String workerStatus(String worker) throws Exception {
    for (JsonNode w : get("/internal/workers")) {
      if (w.get("id").asString().equals(worker)) {
        return w.get("status").asString();
      }
    }
    return null;
  }

  /** {@code workron_stale_messages_total{kind}} of this scheduler-core. */
  double staleMessages(String kind) {
    var c =
        app.getBean(MeterRegistry.class)
            .find("workron_stale_messages_total")
            .tag("kind", kind)
            .counter();
    return c == null ? 0 : c.count();
  }

  void execute(String sql) throws Exception {
    try (Connection c = DriverManager.getConnection(jdbcUrl, infra.username(), infra.password())) {
      c.createStatement().execute(sql);
    }
  }

  long count(String sql) throws Exception {
    try (Connection c = DriverManager.getConnection(jdbcUrl, infra.username(), infra.password());
        ResultSet rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** Every row of {@code sql}, one line each, for a failure message. */
  String rows(String sql) {
    StringBuilder out = new StringBuilder();
    try (Connection c = DriverManager.getConnection(jdbcUrl, infra.username(), infra.password());
        ResultSet rs = c.createStatement().executeQuery(sql)) {
      int n = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        for (int i = 1; i <= n; i++) {
          out.append(i > 1 ? " | " : "\n").append(rs.getString(i));
        }
      }
    } catch (java.sql.SQLException e) {
      return e.toString();
    }
    return out.toString();
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + port + path);
  }

  @Override
  public void close() {
    kafka.close();
    app.close();
  }
}
