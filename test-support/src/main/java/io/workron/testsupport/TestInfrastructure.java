package io.workron.testsupport;

import io.workron.embedded.EmbeddedKafka;
import io.workron.embedded.EmbeddedPostgresServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Locale;
import java.util.UUID;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * The real PostgreSQL and Kafka every test in a JVM shares, started once on first use.
 *
 * <ul>
 *   <li>{@code WORKRON_TEST_INFRA=external} with {@code WORKRON_TEST_JDBC_URL}, {@code
 *       WORKRON_TEST_JDBC_USER}, {@code WORKRON_TEST_JDBC_PASSWORD} and {@code WORKRON_TEST_KAFKA}:
 *       servers that are already running.
 *   <li>{@code WORKRON_TEST_INFRA=containers}, or no setting and a Docker engine that answers:
 *       Testcontainers ({@code postgres:17}, {@code apache/kafka}).
 *   <li>otherwise: embedded PostgreSQL 17 and an in-process KRaft broker.
 * </ul>
 *
 * Tests isolate themselves by asking for a fresh database ({@link #newDatabase()}) and a fresh
 * topic prefix ({@link #newTopicPrefix()}), never by restarting servers.
 */
public final class TestInfrastructure {

  private static volatile TestInfrastructure instance;

  private final String mode;
  private final String adminJdbcUrl;
  private final String username;
  private final String password;
  private final String kafkaBootstrapServers;

  private TestInfrastructure(
      String mode, String adminJdbcUrl, String username, String password, String kafka) {
    this.mode = mode;
    this.adminJdbcUrl = adminJdbcUrl;
    this.username = username;
    this.password = password;
    this.kafkaBootstrapServers = kafka;
  }

  public static TestInfrastructure get() {
    TestInfrastructure result = instance;
    if (result == null) {
      synchronized (TestInfrastructure.class) {
        result = instance;
        if (result == null) {
          instance = result = start();
        }
      }
    }
    return result;
  }

  private static TestInfrastructure start() {
    String mode = System.getenv().getOrDefault("WORKRON_TEST_INFRA", "").toLowerCase(Locale.ROOT);
    if (mode.equals("external")) {
      return new TestInfrastructure(
          "external",
          required("WORKRON_TEST_JDBC_URL"),
          System.getenv().getOrDefault("WORKRON_TEST_JDBC_USER", "postgres"),
          System.getenv().getOrDefault("WORKRON_TEST_JDBC_PASSWORD", "postgres"),
          required("WORKRON_TEST_KAFKA"));
    }
    if (mode.equals("containers") || (mode.isEmpty() && dockerAnswers())) {
      return startContainers();
    }
    return startEmbedded();
  }

  private static boolean dockerAnswers() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }

  @SuppressWarnings("resource") // lives as long as the JVM; Testcontainers' reaper removes it
  private static TestInfrastructure startContainers() {
    PostgreSQLContainer postgres = new PostgreSQLContainer("postgres:17");
    KafkaContainer kafka = new KafkaContainer("apache/kafka:4.1.1");
    postgres.start();
    kafka.start();
    return new TestInfrastructure(
        "containers",
        postgres.getJdbcUrl(),
        postgres.getUsername(),
        postgres.getPassword(),
        kafka.getBootstrapServers());
  }

  private static TestInfrastructure startEmbedded() {
    try {
      Path dir = Files.createTempDirectory("workron-test-infra");
      EmbeddedPostgresServer postgres = EmbeddedPostgresServer.start(dir.resolve("pg"), 0, false);
      EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"), "127.0.0.1", 0);
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    kafka.close();
                    try {
                      postgres.close();
                    } catch (IOException ignored) {
                      // the JVM is going away; the temp directory goes with the machine
                    }
                  },
                  "workron-test-infra-stop"));
      return new TestInfrastructure(
          "embedded",
          postgres.jdbcUrl(),
          postgres.username(),
          postgres.password(),
          kafka.bootstrapServers());
    } catch (IOException e) {
      throw new UncheckedIOException("could not start embedded PostgreSQL and Kafka", e);
    }
  }

  private static String required(String name) {
    String value = System.getenv(name);
    if (value == null || value.isBlank()) {
      throw new IllegalStateException(
          "WORKRON_TEST_INFRA=external needs " + name + " to point at a running server");
    }
    return value;
  }

  /** {@code embedded}, {@code containers} or {@code external}. */
  public String mode() {
    return mode;
  }

  public String kafkaBootstrapServers() {
    return kafkaBootstrapServers;
  }

  public String username() {
    return username;
  }

  public String password() {
    return password;
  }

  /** Creates an empty database of its own for one test class and returns its JDBC URL. */
  public String newDatabase() {
    String name = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
    try (Connection c = DriverManager.getConnection(adminJdbcUrl, username, password)) {
      c.createStatement().execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("could not create test database " + name, e);
    }
    return replaceDatabase(adminJdbcUrl, name);
  }

  /** A topic prefix no other test uses, so tests can share the broker. */
  public String newTopicPrefix() {
    return "t" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  }

  static String replaceDatabase(String jdbcUrl, String database) {
    int start = jdbcUrl.indexOf('/', "jdbc:postgresql://".length());
    int query = jdbcUrl.indexOf('?', start);
    String tail = query < 0 ? "" : jdbcUrl.substring(query);
    return jdbcUrl.substring(0, start + 1) + database + tail;
  }
}
