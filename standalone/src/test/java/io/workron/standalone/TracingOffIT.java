package io.workron.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.workron.testsupport.TestInfrastructure;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * {@code workron.tracing.enabled=false} on every service: a job still runs, no service makes a span
 * (the exporter {@link TracingIT} sees every span with is there and gets none), and a caller's
 * {@code traceparent} goes no further than the gateway: the job's process gets no {@code
 * TRACEPARENT}.
 */
class TracingOffIT {

  static final InMemorySpanExporter EXPORTED = InMemorySpanExporter.create();

  /** A source of each service's context, as in {@link TracingIT}. */
  @Configuration(proxyBeanMethods = false)
  public static class SpanSink {
    @Bean
    SpanExporter inMemorySpanExporter() {
      return EXPORTED;
    }
  }

  private static StandaloneStack stack;
  private static GatewayCalls gateway;

  @BeforeAll
  static void start() throws Exception {
    TestInfrastructure infra = TestInfrastructure.get();
    stack =
        StandaloneStack.start(
            new StandaloneStack.Options(
                Files.createTempDirectory("workron-traces-off"),
                infra.kafkaBootstrapServers(),
                0,
                infra.newDatabase(),
                infra.username(),
                infra.password(),
                0,
                0,
                0,
                1,
                2,
                infra.newTopicPrefix(),
                Map.of(
                    "spring.main.sources",
                    SpanSink.class.getName(),
                    "workron.tracing.enabled",
                    "false",
                    // were a tracer there, it would hand its spans to the exporter at once
                    "management.opentelemetry.tracing.export.schedule-delay",
                    "50ms")));
    gateway = new GatewayCalls(stack.gatewayPort());
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.close();
    }
  }

  @Test
  void withTracingOffAJobRunsAndNoServiceMakesASpan() throws Exception {
    String callersTrace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    String id =
        gateway.submit(
            "{\"command\":\"echo \\\"trace=[$TRACEPARENT]\\\"\"}",
            Map.of("traceparent", callersTrace));
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> "done".equals(gateway.job(id, Map.of()).path("status").asString()));

    assertThat(gateway.job(id, Map.of()).path("output").asString())
        .as("the process's TRACEPARENT")
        .contains("trace=[]");
    // a second job's whole round trip: a tracer's spans of the first would be exported by now
    String second = gateway.submit("{\"command\":\"true\"}", Map.of());
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> "done".equals(gateway.job(second, Map.of()).path("status").asString()));
    assertThat(EXPORTED.getFinishedSpanItems())
        .as("spans of any service, for this job or the stack's own work")
        .isEmpty();
  }
}
