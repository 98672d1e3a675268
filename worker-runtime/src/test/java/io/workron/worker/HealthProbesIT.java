package io.workron.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.workron.embedded.EmbeddedKafka;
import io.workron.testsupport.HealthProbe;
import io.workron.testsupport.TestInfrastructure;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The worker's probes as Kubernetes sees them: readiness follows Kafka, liveness follows no other
 * server. A worker cannot start without a broker (it creates its topics first), so this worker gets
 * a broker of its own, the same in-process KRaft broker the shared test servers use, which the test
 * stops and starts again under the running worker; the shared broker stays up for other tests.
 */
class HealthProbesIT {

  private static final Duration CEILING = Duration.ofSeconds(60);

  private static Path brokerDir;
  private static int brokerPort;
  private static EmbeddedKafka broker;
  private static ConfigurableApplicationContext worker;

  @BeforeAll
  static void start() throws IOException {
    TestInfrastructure infra = TestInfrastructure.get();
    brokerDir = Files.createTempDirectory("worker-health-kafka");
    broker = EmbeddedKafka.start(brokerDir, "127.0.0.1", 0);
    String bootstrap = broker.bootstrapServers();
    brokerPort = Integer.parseInt(bootstrap.substring(bootstrap.lastIndexOf(':') + 1));
    worker =
        WorkerApplication.builder()
            .run(
                "--server.port=0",
                "--spring.kafka.bootstrap-servers=" + bootstrap,
                "--workron.topic-prefix=" + infra.newTopicPrefix(),
                "--workron.worker.id=health-" + UUID.randomUUID().toString().substring(0, 8),
                "--workron.worker.shutdown-deadline=1s",
                "--workron.worker.stop-grace=1s",
                "--workron.worker.state-dir="
                    + java.nio.file.Files.createTempDirectory("workron-worker-state"));
  }

  @AfterAll
  static void stop() {
    if (worker != null) {
      worker.close();
    }
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void isNotReadyButStaysAliveWhileKafkaIsUnreachableAndReadyAgainOnceItIsBack()
      throws IOException {
    assertThat(probe("readiness").status()).isEqualTo(200);
    assertThat(probe("readiness").component("kafka")).isEqualTo("UP");
    assertThat(probe("liveness").status()).isEqualTo(200);
    assertThat(probe("liveness").body().path("components").propertyNames())
        .containsExactly("livenessState");

    broker.close();
    broker = null;

    await()
        .atMost(CEILING)
        .untilAsserted(() -> assertThat(probe("readiness").status()).isEqualTo(503));
    assertThat(probe("readiness").component("kafka")).isEqualTo("DOWN");
    assertThat(probe("liveness").status()).isEqualTo(200);

    broker = EmbeddedKafka.start(brokerDir, "127.0.0.1", brokerPort);

    await()
        .atMost(CEILING)
        .untilAsserted(() -> assertThat(probe("readiness").status()).isEqualTo(200));
    assertThat(probe("liveness").status()).isEqualTo(200);
  }

  private static HealthProbe probe(String group) {
    return HealthProbe.read(
        worker.getEnvironment().getRequiredProperty("local.server.port", Integer.class),
        "/actuator/health/" + group);
  }
}
