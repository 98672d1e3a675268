package io.workron.worker;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * Entry point of worker-runtime. Its configuration is read from {@code worker-runtime.properties}.
 */
@SpringBootApplication
@ConfigurationPropertiesScan
public class WorkerApplication {

  /** Name of this service's configuration file, so the services can share one classpath. */
  public static final String CONFIG_NAME = "worker-runtime";

  public static void main(String[] args) {
    io.workron.worker.execution.LaunchMechanism.prefer();
    builder().run(args);
  }

  /** The application as standalone mode and end-to-end tests start it, next to the others. */
  public static SpringApplicationBuilder builder() {
    return new SpringApplicationBuilder(WorkerApplication.class)
        .properties("spring.config.name=" + CONFIG_NAME);
  }
}
