package io.workron.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanId;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.workron.testsupport.TestInfrastructure;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import tools.jackson.databind.JsonNode;

/**
 * One job submitted over REST is one trace: the gateway's REST call and its Kafka producer,
 * scheduler-core's ingest, dispatch, result and event spans, and the worker's run of the attempt,
 * each the child of the one before across the Kafka hops and the job's row, and the job's own
 * process sees the run's span in {@code TRACEPARENT}. Every service's spans go to one in-memory
 * exporter, added to each service's context as a source, and, through the OTLP exporter an operator
 * configures, to a collector the test runs.
 */
class TracingIT {

  private static final AttributeKey<String> SERVICE = AttributeKey.stringKey("service.name");
  private static final Pattern TRACEPARENT = Pattern.compile("00-([0-9a-f]{32})-([0-9a-f]{16})-01");

  /** Receives the spans of the gateway, scheduler-core and the worker, all in this JVM. */
  static final InMemorySpanExporter EXPORTED = InMemorySpanExporter.create();

  /** A source of each service's context: Spring Boot hands its spans to every SpanExporter bean. */
  @Configuration(proxyBeanMethods = false)
  public static class SpanSink {
    @Bean
    SpanExporter inMemorySpanExporter() {
      return EXPORTED;
    }
  }

  private static StandaloneStack stack;
  private static GatewayCalls gateway;

  /** An OTLP/HTTP collector: what each service's configured exporter sent, decoded. */
  private static HttpServer collector;

  private static final List<ExportTraceServiceRequest> COLLECTED = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    collector = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    collector.createContext(
        "/v1/traces",
        exchange -> {
          try (exchange) {
            byte[] body = exchange.getRequestBody().readAllBytes();
            if ("POST".equals(exchange.getRequestMethod())
                && "application/x-protobuf"
                    .equals(exchange.getRequestHeaders().getFirst("Content-Type"))) {
              COLLECTED.add(ExportTraceServiceRequest.parseFrom(body));
              exchange.sendResponseHeaders(200, -1);
            } else {
              exchange.sendResponseHeaders(415, -1);
            }
          }
        });
    collector.start();
    TestInfrastructure infra = TestInfrastructure.get();
    stack =
        StandaloneStack.start(
            new StandaloneStack.Options(
                Files.createTempDirectory("workron-traces"),
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
                    // as an operator configures the exporter, besides the test's in-memory one
                    "management.opentelemetry.tracing.export.otlp.endpoint",
                    "http://127.0.0.1:" + collector.getAddress().getPort() + "/v1/traces",
                    // export at once rather than every 5 s
                    "management.opentelemetry.tracing.export.schedule-delay",
                    "50ms")));
    gateway = new GatewayCalls(stack.gatewayPort());
  }

  @AfterAll
  static void stop() {
    if (stack != null) {
      stack.close();
    }
    if (collector != null) {
      collector.stop(0);
    }
  }

  @Test
  void oneJobIsOneTraceFromTheRestCallThroughEveryServiceToItsProcess() throws Exception {
    String id = gateway.submit("{\"command\":\"echo \\\"trace=$TRACEPARENT\\\"\"}", Map.of());
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> "done".equals(job(id).path("status").asString()));

    Matcher seen =
        Pattern.compile("trace=" + TRACEPARENT.pattern())
            .matcher(job(id).path("output").asString());
    assertThat(seen.find()).as("the process's TRACEPARENT in %s", job(id)).isTrue();
    String traceId = seen.group(1);
    String processParent = seen.group(2);

    // the last spans end when scheduler-core has applied the result and published the event
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(names(spans(traceId)))
                    .contains(
                        "workron.ingest",
                        "workron.dispatch",
                        "workron.job.run",
                        "workron.result",
                        "workron.publish"));
    List<SpanData> trace = spans(traceId);

    SpanData run = only(trace, "workron.job.run");
    assertThat(service(run)).isEqualTo("worker-runtime");
    assertThat(run.getSpanId()).as("the process's parent is the run").isEqualTo(processParent);
    assertThat(run.getAttributes().get(AttributeKey.stringKey("workron.job_id"))).isEqualTo(id);

    SpanData dispatch = only(trace, "workron.dispatch");
    assertThat(service(dispatch)).isEqualTo("scheduler-core");
    assertThat(run.getParentSpanId())
        .as("the run continues the dispatch")
        .isEqualTo(dispatch.getSpanId());

    SpanData ingest = only(trace, "workron.ingest");
    assertThat(service(ingest)).isEqualTo("scheduler-core");
    assertThat(dispatch.getParentSpanId())
        .as("the dispatch continues the ingest, through the job's row")
        .isEqualTo(ingest.getSpanId());

    SpanData producer = byId(trace, ingest.getParentSpanId());
    assertThat(service(producer))
        .as("the ingest continues the gateway's produce of the submission")
        .isEqualTo("api-gateway");
    // up from the producer, through the gateway's own spans (Spring Security's, ...), to the root
    SpanData rest = producer;
    while (!rest.getParentSpanId().equals(SpanId.getInvalid())) {
      rest = byId(trace, rest.getParentSpanId());
      assertThat(service(rest)).isEqualTo("api-gateway");
    }
    assertThat(rest.getKind()).as("the root: %s", rest).isEqualTo(SpanKind.SERVER);
    assertThat(rest.getName()).isEqualTo("http post /jobs");

    SpanData result = only(trace, "workron.result");
    assertThat(service(result)).isEqualTo("scheduler-core");
    assertThat(result.getParentSpanId())
        .as("scheduler-core's result handling continues the run")
        .isEqualTo(run.getSpanId());
    assertThat(trace.stream().filter(s -> s.getName().equals("workron.publish")))
        .as("the job's lifecycle events continue the job's trace")
        .allSatisfy(s -> assertThat(s.getParentSpanId()).isEqualTo(ingest.getSpanId()));

    // the configured OTLP exporter of each service sent its part of the trace to the collector
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                assertThat(collectedServices(traceId))
                    .containsExactlyInAnyOrder("api-gateway", "scheduler-core", "worker-runtime"));
  }

  /** The services whose OTLP export to the collector holds a span of {@code traceId}. */
  private static java.util.Set<String> collectedServices(String traceId) {
    java.util.Set<String> services = new java.util.TreeSet<>();
    for (ExportTraceServiceRequest request : COLLECTED) {
      request
          .getResourceSpansList()
          .forEach(
              resource -> {
                boolean inTrace =
                    resource.getScopeSpansList().stream()
                        .flatMap(scope -> scope.getSpansList().stream())
                        .anyMatch(
                            span ->
                                java.util.HexFormat.of()
                                    .formatHex(span.getTraceId().toByteArray())
                                    .equals(traceId));
                if (inTrace) {
                  resource.getResource().getAttributesList().stream()
                      .filter(a -> a.getKey().equals("service.name"))
                      .forEach(a -> services.add(a.getValue().getStringValue()));
                }
              });
    }
    return services;
  }

  private static List<SpanData> spans(String traceId) {
    return EXPORTED.getFinishedSpanItems().stream()
        .filter(s -> s.getTraceId().equals(traceId))
        .toList();
  }

  private static List<String> names(List<SpanData> spans) {
    return spans.stream().map(SpanData::getName).toList();
  }

  private static SpanData only(List<SpanData> trace, String name) {
    List<SpanData> named = trace.stream().filter(s -> s.getName().equals(name)).toList();
    assertThat(named).as("spans named %s in %s", name, names(trace)).hasSize(1);
    return named.get(0);
  }

  private static SpanData byId(List<SpanData> trace, String spanId) {
    return trace.stream()
        .filter(s -> s.getSpanId().equals(spanId))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no span " + spanId + " in " + names(trace)));
  }

  private static String service(SpanData span) {
    return span.getResource().getAttribute(SERVICE);
  }

  private static JsonNode job(String id) throws Exception {
    return gateway.job(id, Map.of());
  }
}
