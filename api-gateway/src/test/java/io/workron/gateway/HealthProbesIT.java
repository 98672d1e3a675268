package io.workron.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.workron.testsupport.TestInfrastructure;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The gateway's probes as Kubernetes sees them: readiness follows Kafka, liveness follows no other
 * server. One gateway runs against the real broker, another against a Kafka address where nothing
 * listens.
 */
class HealthProbesIT {

  private static final Duration CEILING = Duration.ofSeconds(30);
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private static FakeSchedulerCore schedulerCore;
  private static GatewayUnderTest connected;
  private static GatewayUnderTest withoutKafka;

  @BeforeAll
  static void start() {
    TestInfrastructure infra = TestInfrastructure.get();
    schedulerCore = FakeSchedulerCore.start();
    connected =
        GatewayUnderTest.start(
            "spring.kafka.bootstrap-servers=" + infra.kafkaBootstrapServers(),
            "workron.topic-prefix=" + infra.newTopicPrefix(),
            "workron.gateway.scheduler-url=" + schedulerCore.url());
    withoutKafka =
        GatewayUnderTest.start(
            "spring.kafka.bootstrap-servers=127.0.0.1:" + GatewayUnderTest.closedPort(),
            "workron.gateway.scheduler-url=" + schedulerCore.url());
  }

  @AfterAll
  static void stop() {
    for (AutoCloseable closeable : new AutoCloseable[] {connected, withoutKafka, schedulerCore}) {
      try {
        if (closeable != null) {
          closeable.close();
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }
  }

  @Test
  void isReadyAndAliveWhileKafkaAnswers() {
    HttpResponse<String> readiness = connected.get("/actuator/health/readiness");
    HttpResponse<String> liveness = connected.get("/actuator/health/liveness");

    assertThat(readiness.statusCode()).isEqualTo(200);
    assertThat(component(readiness, "kafka")).isEqualTo("UP");
    assertThat(liveness.statusCode()).isEqualTo(200);
    assertThat(json(liveness).path("components").propertyNames()).containsExactly("livenessState");
  }

  @Test
  void isNotReadyButStaysAliveWhileKafkaIsUnreachable() {
    await()
        .atMost(CEILING)
        .untilAsserted(
            () ->
                assertThat(withoutKafka.get("/actuator/health/readiness").statusCode())
                    .isEqualTo(503));

    assertThat(component(withoutKafka.get("/actuator/health/readiness"), "kafka"))
        .isEqualTo("DOWN");
    assertThat(withoutKafka.get("/actuator/health/liveness").statusCode()).isEqualTo(200);
  }

  private static String component(HttpResponse<String> response, String name) {
    return json(response).path("components").path(name).path("status").asString();
  }

  private static JsonNode json(HttpResponse<String> response) {
    return JSON.readTree(response.body());
  }
}
