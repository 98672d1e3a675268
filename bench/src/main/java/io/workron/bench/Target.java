package io.workron.bench;

import io.workron.embedded.EmbeddedKafka;
import io.workron.embedded.EmbeddedPostgresServer;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import io.workron.standalone.StandaloneStack;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the bench runs against: a standalone stack it starts itself in a fresh data directory, or a
 * stack that is already running, given by its Kafka and PostgreSQL.
 */
final class Target implements AutoCloseable {

  /** PostgreSQL credentials of the embedded server the standalone stack starts. */
  static final String EMBEDDED_USER = "postgres";

  static final String EMBEDDED_PASSWORD = "postgres";

  private static final Logger log = LoggerFactory.getLogger(Target.class);
  private static final Duration TOPIC_WAIT = Duration.ofMinutes(2);
  private static final Duration STOP_WAIT = Duration.ofSeconds(90);

  private final String kafkaBootstrap;
  private final String jdbcUrl;
  private final String jdbcUser;
  private final String jdbcPassword;
  private final Topics topics;
  private final StandaloneStack stack;
  private final ServiceProcesses processes;
  private final List<AutoCloseable> infra;
  private final Path dataDirToDelete;
  private final double startSeconds;

  private Target(
      String kafkaBootstrap,
      String jdbcUrl,
      String jdbcUser,
      String jdbcPassword,
      Topics topics,
      StandaloneStack stack,
      ServiceProcesses processes,
      List<AutoCloseable> infra,
      Path dataDirToDelete,
      double startSeconds) {
    this.kafkaBootstrap = kafkaBootstrap;
    this.jdbcUrl = jdbcUrl;
    this.jdbcUser = jdbcUser;
    this.jdbcPassword = jdbcPassword;
    this.topics = topics;
    this.stack = stack;
    this.processes = processes;
    this.infra = infra;
    this.dataDirToDelete = dataDirToDelete;
    this.startSeconds = startSeconds;
  }

  /**
   * Starts embedded PostgreSQL, an in-process Kafka broker, scheduler-core, the gateway and {@code
   * workers} workers, on free ports.
   *
   * @param dataDir where the servers keep their data; null for a fresh temporary directory that is
   *     deleted on close
   */
  static Target standalone(
      Path dataDir, int workers, int slots, String topicPrefix, Map<String, String> properties) {
    Path dir = dataDir;
    Path toDelete = null;
    try {
      if (dir == null) {
        dir = Files.createTempDirectory("workron-bench-");
        toDelete = dir;
      }
      log.info("starting the standalone stack ({} workers x {} slots) in {}", workers, slots, dir);
      Map<String, String> props = new LinkedHashMap<>();
      // the services would log "Starting Bench ..." under this module's (INFO) logger
      props.put("spring.main.log-startup-info", "false");
      props.putAll(properties);
      long t0 = System.nanoTime();
      StandaloneStack stack =
          StandaloneStack.start(
              new StandaloneStack.Options(
                  dir.toAbsolutePath(),
                  null,
                  0,
                  null,
                  EMBEDDED_USER,
                  EMBEDDED_PASSWORD,
                  0,
                  0,
                  0,
                  workers,
                  slots,
                  topicPrefix,
                  props));
      double seconds = (System.nanoTime() - t0) / 1e9;
      log.info(
          "stack up in {} s: kafka {}, {}",
          String.format("%.1f", seconds),
          stack.kafkaBootstrap(),
          stack.jdbcUrl());
      return new Target(
          stack.kafkaBootstrap(),
          stack.jdbcUrl(),
          EMBEDDED_USER,
          EMBEDDED_PASSWORD,
          new Topics(topicPrefix),
          stack,
          null,
          List.of(),
          toDelete,
          seconds);
    } catch (IOException | RuntimeException e) {
      if (toDelete != null) {
        deleteTree(toDelete);
      }
      throw new BenchFailure("could not start the standalone stack: " + e, e);
    }
  }

  /** A stack that is already running; {@code jdbcUrl} may be null when no phase needs it. */
  static Target external(
      String kafkaBootstrap, String jdbcUrl, String user, String password, String topicPrefix) {
    return new Target(
        kafkaBootstrap,
        jdbcUrl,
        user,
        password,
        new Topics(topicPrefix),
        null,
        null,
        List.of(),
        null,
        Double.NaN);
  }

  /**
   * Starts embedded PostgreSQL and an in-process Kafka broker here, then every service as a process
   * of its own ({@link ServiceProcesses}): {@code schedulers} scheduler-core replicas, the gateway
   * and {@code workers} workers.
   */
  static Target processes(
      Path dataDir,
      int schedulers,
      int workers,
      int slots,
      String topicPrefix,
      Map<String, String> properties) {
    Path dir = dataDir;
    Path toDelete = null;
    List<AutoCloseable> infra = new java.util.ArrayList<>();
    try {
      if (dir == null) {
        dir = Files.createTempDirectory("workron-bench-");
        toDelete = dir;
      }
      dir = dir.toAbsolutePath();
      log.info(
          "starting {} scheduler-core, the gateway and {} workers x {} slots as processes in {}",
          schedulers,
          workers,
          slots,
          dir);
      long t0 = System.nanoTime();
      EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(dir.resolve("postgres"), 0, false);
      infra.add(pg);
      String jdbc =
          StandaloneStack.ensureDatabase(pg.jdbcUrl(), pg.username(), pg.password(), "workron");
      EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"), "127.0.0.1", 0);
      infra.add(kafka);
      ServiceProcesses services =
          ServiceProcesses.start(
              dir,
              kafka.bootstrapServers(),
              jdbc,
              pg.username(),
              pg.password(),
              schedulers,
              workers,
              slots,
              topicPrefix,
              properties);
      double seconds = (System.nanoTime() - t0) / 1e9;
      log.info("services up in {} s", String.format("%.1f", seconds));
      return new Target(
          kafka.bootstrapServers(),
          jdbc,
          pg.username(),
          pg.password(),
          new Topics(topicPrefix),
          null,
          services,
          infra,
          toDelete,
          seconds);
    } catch (IOException | RuntimeException e) {
      closeAll(infra);
      if (toDelete != null) {
        deleteTree(toDelete);
      }
      throw new BenchFailure("could not start the services as processes: " + e, e);
    }
  }

  boolean embedded() {
    return stack != null || processes != null;
  }

  /** The service processes, or null when the services run in this JVM or elsewhere. */
  /** The gateway of the in-process stack, or null when the bench runs another shape. */
  String gatewayUrl() {
    return stack == null ? null : "http://127.0.0.1:" + stack.gatewayPort();
  }

  ServiceProcesses processes() {
    return processes;
  }

  private static void closeAll(List<AutoCloseable> resources) {
    for (int i = resources.size() - 1; i >= 0; i--) {
      try {
        resources.get(i).close();
      } catch (Exception e) {
        log.warn("error while stopping: {}", e.toString());
      }
    }
  }

  String kafkaBootstrap() {
    return kafkaBootstrap;
  }

  String jdbcUrl() {
    return jdbcUrl;
  }

  String jdbcUser() {
    return jdbcUser;
  }

  String jdbcPassword() {
    return jdbcPassword;
  }

  Topics topics() {
    return topics;
  }

  /** Seconds the standalone stack took to start; NaN for an external one. */
  double startSeconds() {
    return startSeconds;
  }

  /**
   * A consumer of the job-events topic positioned at its current end; waits for the topic at most
   * two minutes and never past {@code deadlineNanos}.
   */
  JobEventWatch openEventWatch(WireCodec codec, long deadlineNanos) {
    if (kafkaBootstrap == null) {
      throw new BenchFailure("no Kafka to submit to: give --kafka or let the bench start a stack");
    }
    long left = Math.max(0, deadlineNanos - System.nanoTime());
    Duration wait = Duration.ofNanos(Math.min(TOPIC_WAIT.toNanos(), left));
    return JobEventWatch.open(kafkaBootstrap, topics.jobEvents(), codec, wait);
  }

  /** Stops the stack (bounded: a stuck shutdown is abandoned) and deletes its temporary data. */
  @Override
  public void close() {
    if (processes != null) {
      processes.close();
      closeAll(infra);
    }
    if (stack != null) {
      Thread stopper = new Thread(stack::close, "bench-stack-stop");
      stopper.setDaemon(true);
      stopper.start();
      try {
        TimeUnit.NANOSECONDS.timedJoin(stopper, STOP_WAIT.toNanos());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (stopper.isAlive()) {
        log.warn("the stack did not stop within {} s; leaving it", STOP_WAIT.toSeconds());
        return; // its files are still in use
      }
    }
    if (dataDirToDelete != null) {
      deleteTree(dataDirToDelete);
    }
  }

  private static void deleteTree(Path root) {
    try {
      Files.walkFileTree(
          root,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs)
                throws IOException {
              Files.deleteIfExists(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
              Files.deleteIfExists(dir);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException | UncheckedIOException e) {
      log.warn("could not delete {}: {}", root, e.toString());
    }
  }
}
