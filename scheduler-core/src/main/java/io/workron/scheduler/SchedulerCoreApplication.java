package io.workron.scheduler;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * Entry point of scheduler-core. Its configuration is read from {@code scheduler-core.properties}.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class SchedulerCoreApplication {

  /** Name of this service's configuration file, so the services can share one classpath. */
  public static final String CONFIG_NAME = "scheduler-core";

  public static void main(String[] args) {
    builder().run(args);
  }

  /** The application as standalone mode and end-to-end tests start it, next to the others. */
  public static SpringApplicationBuilder builder() {
    return new SpringApplicationBuilder(SchedulerCoreApplication.class)
        .properties("spring.config.name=" + CONFIG_NAME);
  }
}
