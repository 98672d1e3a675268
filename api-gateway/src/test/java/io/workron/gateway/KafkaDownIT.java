package io.workron.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/** The gateway with no broker behind its bootstrap address. */
class KafkaDownIT {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  /** What a client may have to wait at most; Kafka's own defaults would make it a minute. */
  private static final Duration PATIENCE = Duration.ofSeconds(3);

  private static GatewayUnderTest gateway;

  @BeforeAll
  static void start() {
    gateway =
        GatewayUnderTest.start(
            "spring.kafka.bootstrap-servers=127.0.0.1:" + GatewayUnderTest.closedPort(),
            "workron.gateway.scheduler-url=http://127.0.0.1:" + GatewayUnderTest.closedPort());
    gateway.get("/health"); // the first request pays for the servlet's start-up, not the test
  }

  @AfterAll
  static void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  @Test
  void answers503WithRetryAfterInsteadOfHangingWhileKafkaIsDown() throws Exception {
    // the first attempts wait for the producer to give up; then the open breaker answers at once
    for (int attempt = 1; attempt <= 4; attempt++) {
      HttpResponse<String> response =
          gateway.post("/jobs", "{\"command\": \"echo " + attempt + "\"}", PATIENCE);

      assertThat(response.statusCode()).as("attempt %d", attempt).isEqualTo(503);
      assertThat(response.headers().firstValue("Retry-After")).hasValue("5");
      assertThat(response.headers().firstValue("Content-Type"))
          .hasValueSatisfying(type -> assertThat(type).startsWith("application/problem+json"));
      assertThat(JSON.readTree(response.body()).path("dependency").asString()).isEqualTo("kafka");
    }
  }

  @Test
  void stillRejectsInvalidSubmissionsWith400WhileKafkaIsDown() throws Exception {
    HttpResponse<String> response = gateway.post("/jobs", "{\"command\": \"\"}", PATIENCE);

    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(response.body()).path("field").asString()).isEqualTo("command");
  }
}
