package io.workron.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.workron.testsupport.TestInfrastructure;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * One gateway, never restarted, reading through a scheduler-core that goes away and comes back on
 * the same address.
 */
class SchedulerCoreRecoveryIT {

  /** Set short so the open circuit breaker lets a trial call through soon. */
  private static final Duration RETRY_AFTER = Duration.ofSeconds(1);

  /** The gateway must answer every read within this, whether scheduler-core is up or not. */
  private static final Duration PATIENCE = Duration.ofSeconds(2);

  private static final HttpClient http = HttpClient.newHttpClient();

  private static int schedulerCorePort;
  private static HttpServer schedulerCore;
  private static ConfigurableApplicationContext gateway;

  @BeforeAll
  static void start() {
    TestInfrastructure infra = TestInfrastructure.get();
    schedulerCorePort = GatewayUnderTest.closedPort();
    schedulerCore = startSchedulerCore();
    gateway =
        ApiGatewayApplication.builder()
            .run(
                "--server.port=0",
                "--spring.kafka.bootstrap-servers=" + infra.kafkaBootstrapServers(),
                "--workron.topic-prefix=" + infra.newTopicPrefix(),
                "--workron.gateway.scheduler-url=http://127.0.0.1:" + schedulerCorePort,
                "--workron.gateway.retry-after=" + RETRY_AFTER.toSeconds() + "s",
                "--workron.auth.tokens[0].name=test-admin",
                "--workron.auth.tokens[0].sha256="
                    + GatewayUnderTest.sha256(GatewayUnderTest.ADMIN_TOKEN),
                "--workron.auth.tokens[0].scopes=admin");
  }

  @AfterAll
  static void stop() {
    if (gateway != null) {
      gateway.close();
    }
    if (schedulerCore != null) {
      schedulerCore.stop(0);
    }
  }

  @Test
  void answers503WithRetryAfterWhileSchedulerCoreIsDownAndReadsAgainOnceItIsBack() {
    assertThat(getJob("job-recovers").statusCode()).isEqualTo(200);

    schedulerCore.stop(0);
    // enough failed reads to open the circuit breaker, then reads the open breaker refuses
    for (int read = 1; read <= 8; read++) {
      HttpResponse<String> response = getJob("job-recovers");

      assertThat(response.statusCode()).as("read %d", read).isEqualTo(503);
      assertThat(response.headers().firstValue("Retry-After")).hasValue("1");
    }
    assertThat(schedulerCoreBreaker().getState()).isEqualTo(CircuitBreaker.State.OPEN);

    schedulerCore = startSchedulerCore();

    // the breaker's wait, plus room for a busy machine
    await()
        .atMost(RETRY_AFTER.plusSeconds(4))
        .untilAsserted(() -> assertThat(getJob("job-recovers").statusCode()).isEqualTo(200));
    assertThat(getJob("job-recovers").body()).contains("\"id\":\"job-recovers\"");
    assertThat(schedulerCoreBreaker().getState()).isEqualTo(CircuitBreaker.State.CLOSED);
  }

  private static CircuitBreaker schedulerCoreBreaker() {
    return gateway.getBean(CircuitBreakerRegistry.class).circuitBreaker("scheduler-core");
  }

  /** Fails with an {@code HttpTimeoutException} if the gateway takes longer than the patience. */
  private static HttpResponse<String> getJob(String id) {
    int port = gateway.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/jobs/" + id))
            .header("Authorization", "Bearer " + GatewayUnderTest.ADMIN_TOKEN)
            .timeout(PATIENCE)
            .build();
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * scheduler-core's {@code GET /internal/jobs/{id}}, knowing every id, on the same port each time.
   */
  private static HttpServer startSchedulerCore() {
    try {
      HttpServer server =
          HttpServer.create(new InetSocketAddress("127.0.0.1", schedulerCorePort), 0);
      server.createContext("/internal/jobs/", SchedulerCoreRecoveryIT::storedJob);
      server.start();
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void storedJob(HttpExchange exchange) throws IOException {
    String id = exchange.getRequestURI().getPath().substring("/internal/jobs/".length());
    byte[] body =
        ("{\"id\":\"" + id + "\",\"command\":\"echo stored\",\"status\":\"pending\"}")
            .getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(200, body.length);
    exchange.getResponseBody().write(body);
    exchange.close();
  }
}
