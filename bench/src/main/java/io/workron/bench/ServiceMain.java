package io.workron.bench;

import io.workron.gateway.ApiGatewayApplication;
import io.workron.scheduler.SchedulerCoreApplication;
import io.workron.worker.WorkerApplication;
import java.util.List;
import org.springframework.boot.builder.SpringApplicationBuilder;

/**
 * {@code workron-bench serve <service> --key=value ...}: runs one Workron service in this JVM, as
 * its own executable jar would, so that {@code --services processes} can start every service as a
 * process of its own from the one bench jar. SIGTERM stops it through Spring's shutdown hook.
 */
final class ServiceMain {

  static final String SERVE = "serve";
  static final String SCHEDULER = "scheduler-core";
  static final String GATEWAY = "api-gateway";
  static final String WORKER = "worker-runtime";
  static final List<String> SERVICES = List.of(SCHEDULER, GATEWAY, WORKER);

  private ServiceMain() {}

  static void serve(String service, String[] properties) {
    SpringApplicationBuilder builder =
        switch (service) {
          case SCHEDULER -> SchedulerCoreApplication.builder();
          case GATEWAY -> ApiGatewayApplication.builder();
          case WORKER -> WorkerApplication.builder();
          default ->
              throw new IllegalArgumentException(
                  "unknown service '" + service + "'; choose from " + SERVICES);
        };
    // a child of the bench: it ends with the bench, even one killed without closing its children
    ProcessHandle.current()
        .parent()
        .ifPresent(parent -> parent.onExit().thenRun(() -> System.exit(0)));
    builder.run(properties); // its web server's threads keep the JVM running
  }

  /** The JVM flags {@code service} ships with, as its Dockerfile passes them. */
  static List<String> jvmFlags(String service) {
    String resource = "/META-INF/workron/" + service + ".jvm.options";
    try (var in = ServiceMain.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("no " + resource + " on the class path");
      }
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
          .lines()
          .map(l -> l.replaceFirst("#.*", "").trim())
          .filter(l -> !l.isEmpty())
          .toList();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
