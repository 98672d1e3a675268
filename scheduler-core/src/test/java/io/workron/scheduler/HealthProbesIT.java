package io.workron.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.workron.testsupport.HealthProbe;
import io.workron.testsupport.TestInfrastructure;
import java.io.IOException;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * scheduler-core's probes as Kubernetes sees them: readiness follows PostgreSQL and Kafka, liveness
 * follows neither. One scheduler-core runs against the real servers, another against a Kafka
 * address where nothing listens.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HealthProbesIT {

  private static final Duration CEILING = Duration.ofSeconds(30);

  private static TestInfrastructure infra;
  private static String jdbcUrl;
  private static ConfigurableApplicationContext connected;
  private static ConfigurableApplicationContext withoutKafka;

  @BeforeAll
  static void start() {
    infra = TestInfrastructure.get();
    jdbcUrl = infra.newDatabase();
    connected = startSchedulerCore(jdbcUrl, infra.kafkaBootstrapServers());
    withoutKafka = startSchedulerCore(infra.newDatabase(), "127.0.0.1:" + closedPort());
  }

  @AfterAll
  static void stop() {
    if (connected != null) {
      connected.close();
    }
    if (withoutKafka != null) {
      withoutKafka.close();
    }
  }

  // First, on an instance nothing has disturbed yet: after the outage below, a poll that waited for
  // a connection while PostgreSQL was away may still report its failure (and readiness DOWN for one
  // backoff) after readiness was already back.
  @Test
  @Order(1)
  void isReadyAndAliveWhilePostgresqlAndKafkaAnswer() {
    HealthProbe readiness = probe(connected, "readiness");
    HealthProbe liveness = probe(connected, "liveness");

    assertThat(readiness.status()).as(readiness.body().toString()).isEqualTo(200);
    assertThat(readiness.component("db")).isEqualTo("UP");
    assertThat(readiness.component("kafka")).isEqualTo("UP");
    assertThat(liveness.status()).isEqualTo(200);
    assertThat(liveness.componentNames()).containsExactly("livenessState");
  }

  @Test
  @Order(2)
  void isNotReadyButStaysAliveWhileKafkaIsUnreachable() {
    await()
        .atMost(CEILING)
        .untilAsserted(() -> assertThat(probe(withoutKafka, "readiness").status()).isEqualTo(503));

    HealthProbe readiness = probe(withoutKafka, "readiness");
    assertThat(readiness.component("kafka")).isEqualTo("DOWN");
    assertThat(readiness.component("db")).isEqualTo("UP");
    assertThat(probe(withoutKafka, "liveness").status()).isEqualTo(200);
  }

  @Test
  @Order(3)
  void isNotReadyButStaysAliveWhilePostgresqlIsUnreachableAndReadyAgainOnceItIsBack()
      throws Exception {
    String database = databaseName(jdbcUrl);
    try (Connection admin =
        DriverManager.getConnection(adminUrl(), infra.username(), infra.password())) {
      admin.createStatement().execute("ALTER DATABASE " + database + " ALLOW_CONNECTIONS false");
      try {
        await().atMost(CEILING).until(() -> terminateConnections(admin, database) == 0);
        await()
            .atMost(CEILING)
            .untilAsserted(() -> assertThat(probe(connected, "readiness").status()).isEqualTo(503));

        HealthProbe readiness = probe(connected, "readiness");
        assertThat(readiness.component("db")).isEqualTo("DOWN");
        assertThat(readiness.component("kafka")).isEqualTo("UP");
        assertThat(probe(connected, "liveness").status()).isEqualTo(200);
        assertThat(get(connected, "/actuator/health").status()).isEqualTo(503);
      } finally {
        admin.createStatement().execute("ALTER DATABASE " + database + " ALLOW_CONNECTIONS true");
      }
    }

    await()
        .atMost(CEILING)
        .untilAsserted(() -> assertThat(probe(connected, "readiness").status()).isEqualTo(200));
  }

  private static ConfigurableApplicationContext startSchedulerCore(String jdbc, String kafka) {
    return SchedulerCoreApplication.builder()
        .run(
            "--server.port=0",
            // no internal API token: then it may only listen on loopback
            "--server.address=127.0.0.1",
            "--spring.datasource.url=" + jdbc,
            "--spring.datasource.username=" + infra.username(),
            "--spring.datasource.password=" + infra.password(),
            "--spring.kafka.bootstrap-servers=" + kafka,
            // creating topics on a broker that is not there gives up after this, not 30 s
            "--spring.kafka.admin.operation-timeout=2s",
            "--workron.topic-prefix=" + infra.newTopicPrefix());
  }

  /** Closes the database's sessions (scheduler-core's pool) and says how many there were. */
  private static int terminateConnections(Connection admin, String database) throws SQLException {
    try (ResultSet terminated =
        admin
            .createStatement()
            .executeQuery(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '"
                    + database
                    + "' AND pid <> pg_backend_pid()")) {
      int count = 0;
      while (terminated.next()) {
        count++;
      }
      return count;
    }
  }

  private static String databaseName(String url) {
    int start = url.indexOf('/', "jdbc:postgresql://".length()) + 1;
    int query = url.indexOf('?', start);
    return url.substring(start, query < 0 ? url.length() : query);
  }

  /** The same server's {@code postgres} database: a database cannot lock out its own session. */
  private static String adminUrl() {
    String database = databaseName(jdbcUrl);
    int at = jdbcUrl.indexOf("/" + database) + 1;
    return jdbcUrl.substring(0, at) + "postgres" + jdbcUrl.substring(at + database.length());
  }

  private static int closedPort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static HealthProbe probe(ConfigurableApplicationContext app, String group) {
    return get(app, "/actuator/health/" + group);
  }

  private static HealthProbe get(ConfigurableApplicationContext app, String path) {
    return HealthProbe.read(
        app.getEnvironment().getRequiredProperty("local.server.port", Integer.class), path);
  }
}
