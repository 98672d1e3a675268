package io.workron.standalone.faults;

import io.workron.embedded.EmbeddedKafka;
import io.workron.embedded.EmbeddedPostgresServer;
import io.workron.scheduler.SchedulerCoreApplication;
import io.workron.schemas.Topics;
import io.workron.worker.WorkerApplication;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Workron installation made of real processes for fault injection: PostgreSQL and a Kafka broker
 * this test owns (so it can stop and restart them), scheduler-core replicas and workers each in a
 * JVM of its own (so it can {@code kill -9} them). Timers are shortened so recovery fits a test.
 */
final class FaultCluster implements AutoCloseable {

  static final String PREFIX = "faults";

  private final Path dir;
  private final int kafkaPort;
  private final int postgresPort;
  private EmbeddedKafka kafka;
  private EmbeddedPostgresServer postgres;
  private final Map<String, ServiceProcess> processes = new LinkedHashMap<>();
  private final Map<String, Integer> schedulerPorts = new LinkedHashMap<>();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  FaultCluster() throws IOException {
    dir = Files.createTempDirectory("workron-faults");
    kafkaPort = freePort();
    postgresPort = freePort();
  }

  Topics topics() {
    return new Topics(PREFIX);
  }

  String kafkaBootstrap() {
    return "127.0.0.1:" + kafkaPort;
  }

  String jdbcUrl() {
    return "jdbc:postgresql://localhost:" + postgresPort + "/workron";
  }

  String dbUser() {
    return "postgres";
  }

  String dbPassword() {
    return "postgres";
  }

  void startPostgres() throws Exception {
    postgres = EmbeddedPostgresServer.start(dir.resolve("pg"), postgresPort, true);
    try (Connection c = DriverManager.getConnection(postgres.jdbcUrl(), dbUser(), dbPassword())) {
      var rs =
          c.createStatement().executeQuery("select 1 from pg_database where datname = 'workron'");
      if (!rs.next()) {
        c.createStatement().execute("create database workron");
      }
    }
  }

  void stopPostgres() throws IOException {
    postgres.close();
  }

  void startKafka() throws IOException {
    kafka = EmbeddedKafka.start(dir.resolve("kafka"), "127.0.0.1", kafkaPort);
  }

  void stopKafka() {
    kafka.close();
  }

  void startScheduler(String name, String... extra) throws IOException {
    int port = schedulerPorts.computeIfAbsent(name, n -> freePortUnchecked());
    List<String> args =
        new ArrayList<>(
            List.of(
                "--server.port=" + port,
                // one machine: the internal API needs no token where only loopback reaches it
                "--server.address=127.0.0.1",
                "--spring.main.banner-mode=off",
                "--spring.datasource.url=" + jdbcUrl(),
                "--spring.datasource.username=" + dbUser(),
                "--spring.datasource.password=" + dbPassword(),
                "--spring.kafka.bootstrap-servers=" + kafkaBootstrap(),
                "--workron.topic-prefix=" + PREFIX,
                "--workron.scheduler.replica-id=" + name,
                "--workron.scheduler.reaper-tick=500ms",
                "--workron.scheduler.worker-offline-after=5s",
                "--workron.scheduler.tick-interval=500ms",
                "--workron.scheduler.dispatch-ack-timeout=5s",
                "--workron.scheduler.job-heartbeat-timeout=6s",
                "--workron.scheduler.outbox-sweep-age=2s",
                "--workron.scheduler.outbox-sweep-interval=1s",
                "--workron.scheduler.retry-backoff-base=200ms",
                "--workron.scheduler.gangs.min-run-time=1s",
                "--spring.kafka.consumer.properties.session.timeout.ms=6000",
                "--spring.kafka.consumer.properties.heartbeat.interval.ms=2000"));
    args.addAll(List.of(extra));
    processes.put(
        name,
        ServiceProcess.start(
            name, SchedulerCoreApplication.class, dir.resolve(name + ".log"), args));
  }

  void startWorker(String id) throws IOException {
    processes.put(
        id,
        ServiceProcess.start(
            id,
            WorkerApplication.class,
            dir.resolve(id + ".log"),
            List.of(
                "--server.port=0",
                "--spring.main.banner-mode=off",
                "--spring.kafka.bootstrap-servers=" + kafkaBootstrap(),
                "--workron.topic-prefix=" + PREFIX,
                "--workron.worker.id=" + id,
                "--workron.worker.state-dir=" + dir.resolve("state-" + id),
                "--workron.worker.slots=4",
                "--workron.worker.heartbeat-interval=1s",
                "--workron.worker.stop-grace=2s",
                "--workron.worker.shutdown-deadline=5s")));
  }

  /** {@code kill -TERM} and wait for the process to exit. */
  void stop(String name) throws InterruptedException {
    processes.remove(name).close();
  }

  void kill(String name) throws InterruptedException {
    processes.remove(name).kill();
  }

  boolean isRunning(String name) {
    ServiceProcess p = processes.get(name);
    return p != null && p.isAlive();
  }

  /** HTTP status of a scheduler replica's readiness probe, or -1 when it does not answer. */
  int readiness(String scheduler) {
    return get(scheduler, "/actuator/health/readiness");
  }

  int liveness(String scheduler) {
    return get(scheduler, "/actuator/health/liveness");
  }

  private int get(String scheduler, String path) {
    try {
      return http.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + schedulerPorts.get(scheduler) + path))
                  .timeout(Duration.ofSeconds(3))
                  .build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  String schedulerUrl(String scheduler) {
    return "http://127.0.0.1:" + schedulerPorts.get(scheduler);
  }

  Path logDir() {
    return dir;
  }

  @Override
  public void close() throws Exception {
    for (ServiceProcess p : processes.values()) {
      p.close();
    }
    if (kafka != null) {
      kafka.close();
    }
    if (postgres != null) {
      postgres.close();
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static int freePortUnchecked() {
    try {
      return freePort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
