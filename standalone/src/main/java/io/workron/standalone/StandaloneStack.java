package io.workron.standalone;

import io.workron.embedded.EmbeddedKafka;
import io.workron.embedded.EmbeddedPostgresServer;
import io.workron.gateway.ApiGatewayApplication;
import io.workron.scheduler.SchedulerCoreApplication;
import io.workron.worker.WorkerApplication;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Workron on one machine: PostgreSQL and Kafka (embedded unless external ones are given),
 * scheduler-core, the API gateway and N workers, each service in its own Spring context in this
 * JVM. They talk only through Kafka and scheduler-core's HTTP API, exactly as separate processes.
 */
public final class StandaloneStack implements AutoCloseable {

  /**
   * Every port standalone opens (REST, scheduler-core, workers, Kafka) binds here; PostgreSQL
   * listens on localhost.
   */
  public static final String LOOPBACK = "127.0.0.1";

  /**
   * What to start.
   *
   * @param dataDir where embedded PostgreSQL and Kafka keep their data (kept across restarts)
   * @param kafkaBootstrap an external Kafka to use instead of the embedded broker, or null
   * @param jdbcUrl an external PostgreSQL database to use instead of the embedded one, or null
   */
  public record Options(
      Path dataDir,
      String kafkaBootstrap,
      int kafkaPort,
      String jdbcUrl,
      String jdbcUser,
      String jdbcPassword,
      int postgresPort,
      int gatewayPort,
      int schedulerPort,
      int workers,
      int slots,
      String topicPrefix,
      Map<String, String> extraProperties) {}

  private static final Logger log = LoggerFactory.getLogger(StandaloneStack.class);

  private final List<AutoCloseable> closeInReverse = new ArrayList<>();
  private String kafkaBootstrap;
  private String jdbcUrl;
  private int gatewayPort;
  private int schedulerPort;
  private final List<String> workerIds = new ArrayList<>();
  private final List<Integer> workerPorts = new ArrayList<>();

  private StandaloneStack() {}

  /**
   * scheduler-core's consumer session on a broker started here, which allows sessions down to 1 s:
   * a replica that dies gives its partitions to a survivor in about 3 s instead of the 6 s any
   * broker allows (docs/decisions.md, "Failover of consumer partitions").
   */
  public static final Map<String, String> OWN_BROKER_CONSUMERS =
      Map.of(
          "spring.kafka.consumer.properties.session.timeout.ms", "3000",
          "spring.kafka.consumer.properties.heartbeat.interval.ms", "1000");

  public static StandaloneStack start(Options o) throws IOException {
    StandaloneStack stack = new StandaloneStack();
    try {
      stack.startAll(o);
      return stack;
    } catch (IOException | RuntimeException e) {
      stack.close();
      throw e;
    }
  }

  private void startAll(Options o) throws IOException {
    String user = o.jdbcUser();
    String password = o.jdbcPassword();
    if (o.jdbcUrl() == null) {
      EmbeddedPostgresServer pg =
          EmbeddedPostgresServer.start(o.dataDir().resolve("postgres"), o.postgresPort(), true);
      closeInReverse.add(pg);
      user = pg.username();
      password = pg.password();
      jdbcUrl = ensureDatabase(pg.jdbcUrl(), user, password, "workron");
    } else {
      jdbcUrl = o.jdbcUrl();
    }
    if (o.kafkaBootstrap() == null) {
      EmbeddedKafka kafka =
          EmbeddedKafka.start(o.dataDir().resolve("kafka"), LOOPBACK, o.kafkaPort());
      closeInReverse.add(kafka);
      kafkaBootstrap = kafka.bootstrapServers();
    } else {
      kafkaBootstrap = o.kafkaBootstrap();
    }

    // Standalone's main points logback at its file so the servers' start-up logs are readable; from
    // here on Spring Boot configures logging (from logging.config) and would warn about the
    // property
    System.clearProperty("logback.configurationFile");
    Map<String, String> common = new LinkedHashMap<>();
    common.put("spring.kafka.bootstrap-servers", kafkaBootstrap);
    common.put("workron.topic-prefix", o.topicPrefix());
    common.put("spring.main.banner-mode", "off");
    common.put("spring.main.log-startup-info", "false");
    // standalone runs without authentication, so nothing it opens is reachable from elsewhere
    common.put("server.address", LOOPBACK);
    common.putAll(o.extraProperties());

    // the gateway still proves itself to scheduler-core: a token made for this run, so that
    // another user of this machine cannot reach the internal API either
    String internalToken = newInternalToken();
    Map<String, String> scheduler = new LinkedHashMap<>(OWN_BROKER_CONSUMERS);
    scheduler.putAll(common);
    scheduler.putIfAbsent("workron.internal-api.token", internalToken);
    scheduler.put("server.port", Integer.toString(o.schedulerPort()));
    scheduler.put("spring.datasource.url", jdbcUrl);
    scheduler.put("spring.datasource.username", user);
    scheduler.put("spring.datasource.password", password);
    ConfigurableApplicationContext core = run(SchedulerCoreApplication.builder(), scheduler);
    schedulerPort = port(core);

    Map<String, String> gateway = new LinkedHashMap<>(common);
    gateway.put("server.port", Integer.toString(o.gatewayPort()));
    gateway.put("workron.gateway.scheduler-url", "http://" + LOOPBACK + ":" + schedulerPort);
    gateway.putIfAbsent("workron.internal-api.token", scheduler.get("workron.internal-api.token"));
    gateway.putIfAbsent("workron.auth.enabled", "false");
    ConfigurableApplicationContext api = run(ApiGatewayApplication.builder(), gateway);
    gatewayPort = port(api);

    for (int i = 1; i <= o.workers(); i++) {
      String id = "standalone-worker-" + i;
      Map<String, String> worker = new LinkedHashMap<>(common);
      worker.put("server.port", "0");
      worker.put("workron.worker.id", id);
      // its generated state (the ledger of what it runs) stays with the rest of the data
      worker.put("workron.worker.state-dir", o.dataDir().resolve("workers").resolve(id).toString());
      worker.put("workron.worker.slots", Integer.toString(o.slots()));
      workerPorts.add(port(run(WorkerApplication.builder(), worker)));
      workerIds.add(id);
    }
  }

  private ConfigurableApplicationContext run(
      SpringApplicationBuilder builder, Map<String, String> properties) {
    // passed as command-line arguments so they win over each service's own properties file
    String[] args =
        properties.entrySet().stream()
            .map(e -> "--" + e.getKey() + "=" + e.getValue())
            .toArray(String[]::new);
    ConfigurableApplicationContext context = builder.registerShutdownHook(false).run(args);
    closeInReverse.add(context::close);
    return context;
  }

  private static String newInternalToken() {
    byte[] random = new byte[32];
    new java.security.SecureRandom().nextBytes(random);
    return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(random);
  }

  private static int port(ConfigurableApplicationContext context) {
    return context.getEnvironment().getRequiredProperty("local.server.port", Integer.class);
  }

  /** Creates {@code database} on first start and returns its JDBC URL. */
  public static String ensureDatabase(
      String adminUrl, String user, String password, String database) {
    try (Connection c = DriverManager.getConnection(adminUrl, user, password)) {
      boolean exists;
      try (var st = c.prepareStatement("select 1 from pg_database where datname = ?")) {
        st.setString(1, database);
        exists = st.executeQuery().next();
      }
      if (!exists) {
        c.createStatement().execute("create database " + database);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("could not prepare database " + database, e);
    }
    int slash = adminUrl.indexOf('/', "jdbc:postgresql://".length());
    int query = adminUrl.indexOf('?', slash);
    return adminUrl.substring(0, slash + 1)
        + database
        + (query < 0 ? "" : adminUrl.substring(query));
  }

  public String kafkaBootstrap() {
    return kafkaBootstrap;
  }

  public String jdbcUrl() {
    return jdbcUrl;
  }

  public int gatewayPort() {
    return gatewayPort;
  }

  public int schedulerPort() {
    return schedulerPort;
  }

  public List<String> workerIds() {
    return List.copyOf(workerIds);
  }

  /**
   * The HTTP port (actuator: health, metrics) of each worker, in the order of {@link #workerIds}.
   */
  public List<Integer> workerPorts() {
    return List.copyOf(workerPorts);
  }

  /** Stops the gateway, the workers, scheduler-core, then Kafka and PostgreSQL. */
  @Override
  public void close() {
    for (int i = closeInReverse.size() - 1; i >= 0; i--) {
      try {
        closeInReverse.get(i).close();
      } catch (Exception e) {
        log.warn("error while stopping: {}", e.toString());
      }
    }
    closeInReverse.clear();
  }
}
