package io.workron.standalone;

import io.workron.schemas.Topics;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code java -jar standalone/target/workron-standalone-exec.jar}: all of Workron in one process.
 */
@Command(
    name = "workron-standalone",
    mixinStandardHelpOptions = true,
    description =
        "Runs Workron on this machine: embedded Kafka and PostgreSQL (or external ones),"
            + " scheduler-core, the REST API and workers. Ctrl-C stops everything cleanly.")
public final class Standalone implements Callable<Integer> {

  @Option(
      names = "--data-dir",
      defaultValue = "workron-data",
      description = "Where embedded Kafka and PostgreSQL keep data (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--port", defaultValue = "8080", description = "REST API port.")
  int port;

  @Option(
      names = "--scheduler-port",
      defaultValue = "8081",
      description = "scheduler-core internal API port.")
  int schedulerPort;

  @Option(names = "--workers", defaultValue = "2", description = "Number of workers.")
  int workers;

  @Option(names = "--slots", defaultValue = "4", description = "Jobs each worker runs at once.")
  int slots;

  @Option(
      names = "--kafka",
      description = "bootstrap.servers of an external Kafka; the embedded broker is not started.")
  String kafka;

  @Option(names = "--kafka-port", defaultValue = "9092", description = "Embedded broker port.")
  int kafkaPort;

  @Option(
      names = "--jdbc-url",
      description = "JDBC URL of an external PostgreSQL database; the embedded one is not started.")
  String jdbcUrl;

  @Option(names = "--jdbc-user", defaultValue = "workron", description = "External DB user.")
  String jdbcUser;

  @Option(
      names = "--jdbc-password",
      defaultValue = "${env:WORKRON_JDBC_PASSWORD:-workron}",
      description = "External DB password (or WORKRON_JDBC_PASSWORD).")
  String jdbcPassword;

  @Option(
      names = "--postgres-port",
      defaultValue = "0",
      description = "Embedded PostgreSQL port (0: any free port, printed at start).")
  int postgresPort;

  @Option(
      names = "--topic-prefix",
      defaultValue = Topics.DEFAULT_PREFIX,
      description = "Topic prefix.")
  String topicPrefix;

  @Option(
      names = {"-D", "--property"},
      description = "Any service property, e.g. -D workron.scheduler.retry-backoff-base=2s.")
  Map<String, String> properties = new LinkedHashMap<>();

  /**
   * Logging for this command only (Kafka, PostgreSQL and four services in one console), under a
   * name of its own so programs that embed {@link StandaloneStack} keep their logback.xml.
   */
  static final String LOGGING_CONFIG = "workron-standalone-logback.xml";

  public static void main(String[] args) {
    System.setProperty("logback.configurationFile", LOGGING_CONFIG);
    // before the embedded PostgreSQL starts the JVM's first process
    io.workron.worker.execution.LaunchMechanism.prefer();
    System.exit(new CommandLine(new Standalone()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    properties.putIfAbsent("logging.config", "classpath:" + LOGGING_CONFIG);
    StandaloneStack stack =
        StandaloneStack.start(
            new StandaloneStack.Options(
                dataDir.toAbsolutePath(),
                kafka,
                kafkaPort,
                jdbcUrl,
                jdbcUser,
                jdbcPassword,
                postgresPort,
                port,
                schedulerPort,
                workers,
                slots,
                topicPrefix,
                properties));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  System.out.println("workron: stopping…");
                  stack.close();
                  System.out.println("workron: stopped");
                  stopped.countDown();
                },
                "workron-stop"));
    System.out.printf(
        "%nworkron is running%n"
            + "  REST API        http://localhost:%d  (try: curl -X POST localhost:%d/jobs -d '{\"command\":\"echo hello\"}')%n"
            + "  scheduler-core  http://localhost:%d/actuator/health  (its internal API answers the gateway only)%n"
            + "  Kafka           %s  (submit to topic %s.submissions)%n"
            + "  PostgreSQL      %s%n"
            + "  workers         %s, %d slots each%n"
            + "  data            %s%n"
            + "%s%n"
            + "Ctrl-C to stop.%n",
        stack.gatewayPort(),
        stack.gatewayPort(),
        stack.schedulerPort(),
        stack.kafkaBootstrap(),
        topicPrefix,
        stack.jdbcUrl(),
        String.join(", ", stack.workerIds()),
        slots,
        dataDir.toAbsolutePath(),
        "true".equals(properties.get("workron.auth.enabled"))
            ? "Authentication is on (workron.auth.tokens); every port listens on this machine only"
                + " (127.0.0.1)."
            : "Authentication is off: every port listens on this machine only (127.0.0.1).");
    stopped.await();
    return 0;
  }
}
