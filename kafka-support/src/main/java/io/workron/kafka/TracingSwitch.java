package io.workron.kafka;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * {@code workron.tracing.enabled=false} takes tracing out of a service: the OpenTelemetry tracer,
 * its exporters and its propagator are not configured, so Spring Boot falls back to its no-op
 * tracer, {@link JobTraces} makes no spans, and nothing reads or writes {@code traceparent}.
 *
 * <p>Spring Boot 4 has no property for this ({@code management.tracing.export.enabled=false} stops
 * export but keeps the tracer, so every span is still made). The switch adds the tracer's
 * auto-configurations to {@code spring.autoconfigure.exclude}, keeping the exclusions the service
 * or its deployment already lists.
 */
public final class TracingSwitch implements EnvironmentPostProcessor, Ordered {

  public static final String ENABLED = "workron.tracing.enabled";
  static final String EXCLUDE = "spring.autoconfigure.exclude";

  /** Boot's OpenTelemetry tracing and its exporters; the no-op tracer takes their place. */
  static final List<String> TRACER_CONFIGURATIONS =
      List.of(
          "org.springframework.boot.micrometer.tracing.opentelemetry.autoconfigure"
              + ".OpenTelemetryTracingAutoConfiguration",
          "org.springframework.boot.micrometer.tracing.opentelemetry.autoconfigure.otlp"
              + ".OtlpTracingAutoConfiguration",
          "org.springframework.boot.micrometer.tracing.opentelemetry.autoconfigure.zipkin"
              + ".ZipkinWithOpenTelemetryTracingAutoConfiguration");

  /** After the configuration files are read, so that their value and the environment's count. */
  @Override
  public int getOrder() {
    return Ordered.LOWEST_PRECEDENCE;
  }

  @Override
  public void postProcessEnvironment(
      ConfigurableEnvironment environment, SpringApplication application) {
    String enabled = environment.getProperty(ENABLED, "true").trim();
    if (enabled.equalsIgnoreCase("true")) {
      return;
    }
    if (!enabled.equalsIgnoreCase("false")) {
      throw new IllegalStateException(ENABLED + " must be true or false, not '" + enabled + "'");
    }
    Set<String> excluded = new LinkedHashSet<>();
    for (String name :
        Binder.get(environment).bind(EXCLUDE, String[].class).orElse(new String[0])) {
      if (!name.isBlank()) {
        excluded.add(name.trim());
      }
    }
    excluded.addAll(TRACER_CONFIGURATIONS);
    environment
        .getPropertySources()
        .addFirst(
            new MapPropertySource(
                "workronTracingOff", Map.of(EXCLUDE, String.join(",", excluded))));
  }
}
