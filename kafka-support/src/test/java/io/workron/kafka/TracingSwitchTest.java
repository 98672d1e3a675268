package io.workron.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;

class TracingSwitchTest {

  @Configuration(proxyBeanMethods = false)
  static class Empty {}

  private static ConfigurableApplicationContext run(String... args) {
    return new SpringApplicationBuilder(Empty.class).web(WebApplicationType.NONE).run(args);
  }

  @Test
  void offAddsTheTracerToTheServicesOwnExclusions() {
    try (ConfigurableApplicationContext context =
        run(
            "--workron.tracing.enabled=false",
            "--spring.autoconfigure.exclude=com.example.First, com.example.Second")) {
      String excluded = context.getEnvironment().getProperty("spring.autoconfigure.exclude");
      assertThat(excluded.split(","))
          .startsWith("com.example.First", "com.example.Second")
          .contains(TracingSwitch.TRACER_CONFIGURATIONS.toArray(String[]::new));
    }
  }

  @Test
  void onByDefaultLeavesTheExclusionsAlone() {
    try (ConfigurableApplicationContext context =
        run("--spring.autoconfigure.exclude=com.example.First")) {
      assertThat(context.getEnvironment().getProperty("spring.autoconfigure.exclude"))
          .isEqualTo("com.example.First");
    }
    try (ConfigurableApplicationContext context = run("--workron.tracing.enabled=TRUE")) {
      assertThat(context.getEnvironment().getProperty("spring.autoconfigure.exclude")).isNull();
    }
  }

  @Test
  void aValueThatIsNotABooleanStopsTheStartNamingTheProperty() {
    assertThatThrownBy(() -> run("--workron.tracing.enabled=no").close())
        .hasStackTraceContaining("workron.tracing.enabled must be true or false, not 'no'");
  }
}
