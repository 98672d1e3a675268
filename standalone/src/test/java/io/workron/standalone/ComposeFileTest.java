package io.workron.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import io.workron.schemas.Topics;
import java.io.IOException;
import java.io.Reader;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Parameter;
import java.lang.reflect.RecordComponent;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.boot.convert.DurationStyle;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.core.io.Resource;
import org.springframework.core.io.support.PathMatchingResourcePatternResolver;
import org.springframework.core.type.classreading.CachingMetadataReaderFactory;
import org.springframework.core.type.classreading.MetadataReaderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Checks docker-compose.yml, the services' Dockerfiles and .dockerignore statically, because CI has
 * no Docker engine to run them: every environment variable is one the service reads, ports, Kafka
 * listeners and the JDBC URL agree across services, and each image is built from the module that
 * produces its jar.
 */
class ComposeFileTest {

  /** The Workron modules that run as containers, with the package their code lives in. */
  static final Map<String, String> MODULE_PACKAGES =
      Map.of(
          "scheduler-core", "io.workron.scheduler",
          "api-gateway", "io.workron.gateway",
          "worker-runtime", "io.workron.worker");

  /** The Workron services docker-compose.yml must define, and the module each one runs. */
  private static final Map<String, String> EXPECTED_SERVICES =
      Map.of(
          "scheduler-core", "scheduler-core",
          "api-gateway", "api-gateway",
          "worker-1", "worker-runtime",
          "worker-2", "worker-runtime");

  /** Environment variables the JVM itself reads, so they are allowed on every service. */
  private static final Set<String> READ_BY_THE_JVM = Set.of("JAVA_TOOL_OPTIONS");

  private static final String GATEWAY_PUBLISHED_PORT = "8080";

  private static Path root;
  private static Map<String, Map<String, Object>> services;
  private static final Map<String, ReadKeys> readKeys = new TreeMap<>();

  @BeforeAll
  static void loadComposeFile() throws IOException {
    root = repositoryRoot();
    Path file = root.resolve("docker-compose.yml");
    assertThat(file).as("docker-compose.yml at the repository root").isRegularFile();
    Object document;
    try (Reader reader = Files.newBufferedReader(file)) {
      document = new Yaml(new SafeConstructor(new LoaderOptions())).load(reader);
    }
    Map<String, Object> compose = map(document, "docker-compose.yml");
    services = new LinkedHashMap<>();
    map(compose.get("services"), "services").forEach((k, v) -> services.put(k, map(v, k)));
    for (String module : MODULE_PACKAGES.keySet()) {
      readKeys.put(module, ReadKeys.of(module, MODULE_PACKAGES.get(module)));
    }
  }

  // ---------------------------------------------------------------------------------------------
  // (a) environment variables

  @Test
  void everyEnvironmentVariableOnAWorkronServiceIsAPropertyThatServiceReads() {
    List<String> unread = new ArrayList<>();
    workronServices()
        .forEach(
            (service, module) ->
                environment(service)
                    .keySet()
                    .forEach(
                        variable -> {
                          if (!READ_BY_THE_JVM.contains(variable)
                              && !readKeys.get(module).reads(variable)) {
                            unread.add(
                                String.format(
                                    "%s sets %s, but %s reads no property %s (from %s.properties"
                                        + " or its @ConfigurationProperties/@Value keys)",
                                    service,
                                    variable,
                                    module,
                                    relaxedPropertyName(variable),
                                    module));
                          }
                        }));
    assertThat(unread).as("environment variables no service reads").isEmpty();
  }

  @Test
  void theReadKeysOfEachServiceIncludeItsConfigurationPropertiesRecords() {
    // guards the check above against a scan that silently finds nothing
    readKeys.forEach(
        (module, keys) ->
            assertThat(keys.configurationPropertiesTypes())
                .as(
                    "@ConfigurationProperties types found under %s for %s",
                    MODULE_PACKAGES.get(module), module)
                .isNotEmpty());
    assertThat(readKeys.get("worker-runtime").reads("WORKRON_WORKER_SLOTS")).isTrue();
    assertThat(readKeys.get("api-gateway").reads("WORKRON_GATEWAY_SCHEDULER_URL")).isTrue();
    assertThat(readKeys.get("scheduler-core").reads("SPRING_DATASOURCE_URL")).isTrue();
    assertThat(readKeys.get("worker-runtime").reads("SPRING_DATASOURCE_URL")).isFalse();
  }

  // ---------------------------------------------------------------------------------------------
  // (b) ports

  @Test
  void theGatewaysSchedulerUrlPointsAtTheSchedulerCoreServiceAndItsListeningPort() {
    Map<String, String> schedulers = servicesRunning("scheduler-core");
    assertThat(schedulers).as("services running scheduler-core").isNotEmpty();
    for (String gateway : servicesRunning("api-gateway").keySet()) {
      String url = setting(gateway, "workron.gateway.scheduler-url");
      assertThat(url).as("%s: workron.gateway.scheduler-url", gateway).isNotBlank();
      URI uri = URI.create(url);
      assertThat(schedulers)
          .as(
              "%s: WORKRON_GATEWAY_SCHEDULER_URL %s names host %s, which is no service running"
                  + " scheduler-core",
              gateway, url, uri.getHost())
          .containsKey(uri.getHost());
      int port = uri.getPort() < 0 ? ("https".equals(uri.getScheme()) ? 443 : 80) : uri.getPort();
      assertThat(port)
          .as(
              "%s: WORKRON_GATEWAY_SCHEDULER_URL %s uses port %d, but %s listens on %d",
              gateway, url, port, uri.getHost(), listeningPort(uri.getHost()))
          .isEqualTo(listeningPort(uri.getHost()));
    }
  }

  @Test
  void publishedPortsAndHealthChecksUseThePortEachServiceListensOn() {
    for (String service : workronServices().keySet()) {
      int port = listeningPort(service);
      for (PortMapping mapping : ports(service)) {
        assertThat(mapping.target())
            .as(
                "%s publishes %s, but the container listens on %d (server.port)",
                service, mapping.raw(), port)
            .isEqualTo(port);
      }
      Matcher local =
          Pattern.compile("(?:localhost|127\\.0\\.0\\.1):(\\d+)").matcher(healthcheck(service));
      while (local.find()) {
        assertThat(Integer.parseInt(local.group(1)))
            .as(
                "%s's healthcheck calls port %s, but it listens on %d",
                service, local.group(1), port)
            .isEqualTo(port);
      }
    }
    for (String gateway : servicesRunning("api-gateway").keySet()) {
      assertThat(ports(gateway).stream().map(PortMapping::published).toList())
          .as("%s's published host ports", gateway)
          .contains(GATEWAY_PUBLISHED_PORT);
    }
  }

  @Test
  void kafkasPublishedPortIsItsHostListenerAdvertisedOnLocalhost() {
    KafkaListeners kafka = kafkaListeners();
    assertThat(ports(kafka.service())).as("%s's published ports", kafka.service()).isNotEmpty();
    for (PortMapping mapping : ports(kafka.service())) {
      String name = kafka.listenerOnPort(mapping.target());
      assertThat(name)
          .as(
              "%s publishes %s, but KAFKA_LISTENERS declares no listener on port %d",
              kafka.service(), mapping.raw(), mapping.target())
          .isNotNull();
      assertThat(kafka.advertised().get(name))
          .as(
              "%s publishes %s for listener %s, which must be advertised as localhost:%s",
              kafka.service(), mapping.raw(), name, mapping.published())
          .isEqualTo("localhost:" + mapping.published());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // (c) Kafka

  @Test
  void kafkaBootstrapServersOnEveryServicePointAtAListenerTheKafkaServiceAdvertisesToContainers() {
    KafkaListeners kafka = kafkaListeners();
    for (String service : workronServices().keySet()) {
      String variable = variableFor(service, "spring.kafka.bootstrap-servers");
      assertThat(variable)
          .as(
              "%s must set SPRING_KAFKA_BOOTSTRAP_SERVERS (its default %s is not reachable in a"
                  + " container)",
              service, setting(service, "spring.kafka.bootstrap-servers"))
          .isNotNull();
      String servers = environment(service).get(variable);
      for (String server : servers.split(",")) {
        String hostPort = server.trim();
        int colon = hostPort.lastIndexOf(':');
        String host = colon < 0 ? hostPort : hostPort.substring(0, colon);
        int port = colon < 0 ? 9092 : Integer.parseInt(hostPort.substring(colon + 1));
        assertThat(kafka.names())
            .as(
                "%s: %s=%s names host %s, not the kafka service %s",
                service, variable, servers, host, kafka.service())
            .contains(host);
        String listener = kafka.listenerOnPort(port);
        assertThat(listener)
            .as(
                "%s: %s=%s uses port %d, but the kafka service's KAFKA_LISTENERS %s has no"
                    + " listener there",
                service, variable, servers, port, kafka.listeners())
            .isNotNull();
        assertThat(listener)
            .as("%s: %s=%s points at the controller listener", service, variable, servers)
            .isNotIn(kafka.controllerListeners());
        assertThat(kafka.advertised().get(listener))
            .as(
                "%s: %s=%s reaches listener %s, which the kafka service advertises as %s; clients"
                    + " would be redirected there",
                service, variable, servers, listener, kafka.advertised().get(listener))
            .isEqualTo(host + ":" + port);
      }
    }
  }

  @Test
  void kafkaRunsAsOneKraftNodeThatCanHostEveryTopicWorkronCreates() {
    KafkaListeners kafka = kafkaListeners();
    Map<String, String> env = environment(kafka.service());
    assertThat(Set.of(env.getOrDefault("KAFKA_PROCESS_ROLES", "").split("\\s*,\\s*")))
        .as("%s: KAFKA_PROCESS_ROLES", kafka.service())
        .containsExactlyInAnyOrder("broker", "controller");
    String voters = env.getOrDefault("KAFKA_CONTROLLER_QUORUM_VOTERS", "");
    Matcher voter = Pattern.compile("(\\d+)@([^:,]+):(\\d+)").matcher(voters);
    assertThat(voter.matches())
        .as("%s: KAFKA_CONTROLLER_QUORUM_VOTERS %s is one voter", kafka.service(), voters)
        .isTrue();
    assertThat(voter.group(1))
        .as("%s: the voter's id is KAFKA_NODE_ID", kafka.service())
        .isEqualTo(env.get("KAFKA_NODE_ID"));
    // the controller takes no login, so nothing but the broker itself may reach it
    assertThat(voter.group(2))
        .as("%s: the voter's host is loopback", kafka.service())
        .isIn("localhost", "127.0.0.1");
    for (String controller : kafka.controllerListeners()) {
      assertThat(kafka.bindHosts().get(controller))
          .as("%s: the controller listener %s binds to loopback", kafka.service(), controller)
          .isIn("localhost", "127.0.0.1");
    }
    assertThat(kafka.listenerOnPort(Integer.parseInt(voter.group(3))))
        .as("%s: the voter's port %s is a controller listener", kafka.service(), voter.group(3))
        .isIn(kafka.controllerListeners());
    assertThat(env.get("KAFKA_AUTO_CREATE_TOPICS_ENABLE"))
        .as("%s: KAFKA_AUTO_CREATE_TOPICS_ENABLE", kafka.service())
        .isEqualTo("false");
    env.forEach(
        (name, value) -> {
          if (name.endsWith("_REPLICATION_FACTOR") || name.endsWith("_MIN_ISR")) {
            assertThat(value).as("%s: %s on a single broker", kafka.service(), name).isEqualTo("1");
          }
        });
    for (String service : servicesRunning("scheduler-core").keySet()) {
      assertThat(setting(service, "workron.scheduler.replication-factor"))
          .as("%s: replication factor of the topics it creates, on one broker", service)
          .isEqualTo("1");
    }
    for (String service : servicesRunning("worker-runtime").keySet()) {
      String factor = setting(service, "workron.worker.replication-factor");
      assertThat(factor == null ? "1" : factor)
          .as("%s: replication factor of the topics it creates, on one broker", service)
          .isEqualTo("1");
    }
  }

  @Test
  void theSchedulersConsumerSessionIsOneTheBrokerAcceptsAndHeartbeatsThreeTimesPerSession() {
    // a session below the broker's group.min.session.timeout.ms (6 s unless set) is refused at
    // join: the replica would never consume
    KafkaListeners kafka = kafkaListeners();
    long brokerMinimum =
        Long.parseLong(
            environment(kafka.service())
                .getOrDefault("KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS", "6000"));
    for (String service : servicesRunning("scheduler-core").keySet()) {
      long session =
          Long.parseLong(setting(service, "spring.kafka.consumer.properties.session.timeout.ms"));
      long heartbeat =
          Long.parseLong(
              setting(service, "spring.kafka.consumer.properties.heartbeat.interval.ms"));
      assertThat(session)
          .as("%s: consumer session timeout against the broker's minimum", service)
          .isGreaterThanOrEqualTo(brokerMinimum);
      assertThat(session)
          .as("%s: a dead replica's partitions move within the failover target (5 s)", service)
          .isLessThan(5000);
      assertThat(heartbeat * 3)
          .as("%s: heartbeat.interval.ms %d within a third of the session", service, heartbeat)
          .isLessThanOrEqualTo(session);
    }
  }

  @Test
  void theGatewayAsksForTokensAndSchedulerCoreForTheGatewaysOwn() {
    Map<String, String> gateway = environment("api-gateway");
    assertThat(gateway).doesNotContainKey("WORKRON_AUTH_ENABLED");
    assertThat(readKeys.get("api-gateway").valueOf("workron.auth.enabled")).isEqualTo("true");
    // an admin token whose hash compose refuses to start without
    assertThat(gateway.get("WORKRON_AUTH_TOKENS_0_SCOPES")).isEqualTo("admin");
    assertThat(gateway.get("WORKRON_AUTH_TOKENS_0_SHA256"))
        .isEqualTo("<required WORKRON_ADMIN_TOKEN_SHA256>");
    // the same shared token on both sides of the internal API, also required
    assertThat(gateway.get("WORKRON_INTERNAL_API_TOKEN"))
        .isEqualTo("<required WORKRON_INTERNAL_API_TOKEN>")
        .isEqualTo(environment("scheduler-core").get("WORKRON_INTERNAL_API_TOKEN"));
    for (String worker : servicesRunning("worker-runtime").keySet()) {
      assertThat(environment(worker)).doesNotContainKey("WORKRON_INTERNAL_API_TOKEN");
    }
  }

  @Test
  void everyListenerButTheControllerAsksForTheScramLoginEveryServiceLogsInWith() {
    KafkaListeners kafka = kafkaListeners();
    Map<String, String> env = environment(kafka.service());
    Map<String, String> protocols = new LinkedHashMap<>();
    for (String entry : env.getOrDefault("KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "").split(",")) {
      String[] pair = entry.trim().split(":");
      protocols.put(pair[0], pair.length > 1 ? pair[1] : "");
    }
    Set<String> mechanisms =
        Set.of(env.getOrDefault("KAFKA_SASL_ENABLED_MECHANISMS", "").split("\\s*,\\s*"));
    Properties server = ComposeKafkaIT.serverProperties(env);
    for (String listener : kafka.listeners().keySet()) {
      if (kafka.controllerListeners().contains(listener)) {
        continue;
      }
      assertThat(protocols.get(listener))
          .as("%s: listener %s's security protocol", kafka.service(), listener)
          .isIn("SASL_PLAINTEXT", "SASL_SSL");
      for (String mechanism : mechanisms) {
        String jaas =
            "listener.name."
                + listener.toLowerCase(Locale.ROOT)
                + "."
                + mechanism.toLowerCase(Locale.ROOT)
                + ".sasl.jaas.config";
        assertThat(server.getProperty(jaas))
            .as("%s: %s (from its KAFKA_ variable)", kafka.service(), jaas)
            .contains("ScramLoginModule required");
      }
    }
    String user = env.get("WORKRON_KAFKA_USERNAME");
    assertThat(user).as("%s: WORKRON_KAFKA_USERNAME, the SCRAM user", kafka.service()).isNotBlank();
    // the broker logs in to its inter-broker listener as that user, with the same password
    String interBroker = env.get("KAFKA_INTER_BROKER_LISTENER_NAME");
    for (String mechanism : mechanisms) {
      assertThat(
              server.getProperty(
                  "listener.name."
                      + interBroker.toLowerCase(Locale.ROOT)
                      + "."
                      + mechanism.toLowerCase(Locale.ROOT)
                      + ".sasl.jaas.config"))
          .as("%s: the broker's own login", kafka.service())
          .contains("username=\"" + user + "\"")
          .contains("password=\"" + env.get("WORKRON_KAFKA_PASSWORD") + "\"");
    }
    assertThat(env.get("WORKRON_KAFKA_PASSWORD"))
        .as("%s: its password comes from .env", kafka.service())
        .isEqualTo("<required WORKRON_KAFKA_PASSWORD>");
    for (String service : workronServices().keySet()) {
      assertThat(setting(service, "workron.kafka.username"))
          .as("%s: WORKRON_KAFKA_USERNAME", service)
          .isEqualTo(user);
      assertThat(setting(service, "workron.kafka.password"))
          .as("%s: WORKRON_KAFKA_PASSWORD", service)
          .isEqualTo(env.get("WORKRON_KAFKA_PASSWORD"));
      assertThat(mechanisms)
          .as("%s: its SASL mechanism is one the broker offers", service)
          .contains(setting(service, "workron.kafka.sasl-mechanism"));
    }
  }

  @Test
  void theTokenScriptWritesEverySecretComposeAsksForAndKeepsThemOnASecondRun() throws Exception {
    Set<String> required = new TreeSet<>();
    Matcher m =
        Pattern.compile("\\$\\{([A-Z0-9_]+):\\?")
            .matcher(Files.readString(root.resolve("docker-compose.yml")));
    while (m.find()) {
      required.add(m.group(1));
    }
    assertThat(required).contains("WORKRON_KAFKA_PASSWORD", "WORKRON_INTERNAL_API_TOKEN");
    Path env = Files.createTempDirectory("workron-env").resolve(".env");
    Properties first = runComposeTokenScript(env);
    assertThat(first.stringPropertyNames()).containsAll(required);
    first.forEach((k, v) -> assertThat(v.toString()).as("%s", k).hasSizeGreaterThanOrEqualTo(43));
    assertThat(runComposeTokenScript(env)).isEqualTo(first);
    assertThat(Files.getPosixFilePermissions(env))
        .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
  }

  private static Properties runComposeTokenScript(Path env) throws Exception {
    Process p =
        new ProcessBuilder(
                "bash",
                root.resolve("scripts/new-token.sh").toString(),
                "--compose",
                env.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    Properties written = new Properties();
    try (Reader in = Files.newBufferedReader(env)) {
      written.load(in);
    }
    return written;
  }

  @Test
  void everyWorkronServiceLogsJsonLines() {
    for (String service : workronServices().keySet()) {
      assertThat(setting(service, "logging.structured.format.console"))
          .as("%s: LOGGING_STRUCTURED_FORMAT_CONSOLE", service)
          .isEqualTo("ecs");
    }
  }

  @Test
  void everyServiceUsesTheSameTopicPrefix() {
    Map<String, String> prefixes = new TreeMap<>();
    for (String service : workronServices().keySet()) {
      String prefix = setting(service, "workron.topic-prefix");
      prefixes.put(service, prefix == null || prefix.isBlank() ? Topics.DEFAULT_PREFIX : prefix);
    }
    assertThat(Set.copyOf(prefixes.values()))
        .as("topic prefix (WORKRON_TOPIC_PREFIX) per service: %s", prefixes)
        .hasSize(1);
  }

  // ---------------------------------------------------------------------------------------------
  // PostgreSQL

  @Test
  void everyServiceThatNeedsPostgresHasAJdbcUrlToThePostgresServiceAndTheDatabaseItCreates() {
    String postgres = serviceWithImage("postgres:");
    Map<String, String> pg = environment(postgres);
    String user = pg.getOrDefault("POSTGRES_USER", "postgres");
    String database = pg.getOrDefault("POSTGRES_DB", user);
    List<String> needing =
        workronServices().entrySet().stream()
            .filter(e -> readKeys.get(e.getValue()).usesDataSource())
            .map(Map.Entry::getKey)
            .toList();
    assertThat(needing).as("services that need PostgreSQL").contains("scheduler-core");
    for (String service : needing) {
      String variable = variableFor(service, "spring.datasource.url");
      assertThat(variable).as("%s must set SPRING_DATASOURCE_URL", service).isNotNull();
      String url = environment(service).get(variable);
      Matcher jdbc =
          Pattern.compile("jdbc:postgresql://([^:/]+)(?::(\\d+))?/([^?]+)(?:\\?.*)?").matcher(url);
      assertThat(jdbc.matches())
          .as("%s: %s=%s is a PostgreSQL JDBC URL", service, variable, url)
          .isTrue();
      assertThat(jdbc.group(1))
          .as(
              "%s: %s=%s names host %s, not the postgres service",
              service, variable, url, jdbc.group(1))
          .isEqualTo(postgres);
      assertThat(jdbc.group(2) == null ? "5432" : jdbc.group(2))
          .as("%s: %s=%s port", service, variable, url)
          .isEqualTo("5432");
      assertThat(jdbc.group(3))
          .as(
              "%s: %s=%s database, but %s creates POSTGRES_DB %s",
              service, variable, url, postgres, database)
          .isEqualTo(database);
      assertThat(setting(service, "spring.datasource.username"))
          .as(
              "%s: SPRING_DATASOURCE_USERNAME, but %s creates POSTGRES_USER %s",
              service, postgres, user)
          .isEqualTo(user);
      assertThat(setting(service, "spring.datasource.password"))
          .as(
              "%s: SPRING_DATASOURCE_PASSWORD differs from %s's POSTGRES_PASSWORD",
              service, postgres)
          .isEqualTo(pg.get("POSTGRES_PASSWORD"));
      assertThat(dependsOn(service).get(postgres))
          .as("%s waits for %s to be healthy", service, postgres)
          .isEqualTo("service_healthy");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // start order and shutdown

  @Test
  void servicesWaitOnlyForServicesThatExistAndHaveTheHealthCheckTheyWaitFor() {
    String kafka = kafkaListeners().service();
    for (String service : services.keySet()) {
      dependsOn(service)
          .forEach(
              (dependency, condition) -> {
                assertThat(services.keySet())
                    .as("%s depends on %s, which is not a service", service, dependency)
                    .contains(dependency);
                if ("service_healthy".equals(condition)) {
                  assertThat(healthcheck(dependency))
                      .as(
                          "%s waits for %s to be healthy, but it has no healthcheck",
                          service, dependency)
                      .isNotBlank();
                }
              });
    }
    for (String service : workronServices().keySet()) {
      assertThat(dependsOn(service).get(kafka))
          .as("%s waits for %s to be healthy", service, kafka)
          .isEqualTo("service_healthy");
    }
  }

  @Test
  void workersAreGivenLongerToStopThanTheirGracefulShutdownTakes() {
    for (String worker : servicesRunning("worker-runtime").keySet()) {
      Duration needed =
          DurationStyle.detectAndParse(setting(worker, "workron.worker.shutdown-deadline"))
              .plus(DurationStyle.detectAndParse(setting(worker, "workron.worker.stop-grace")));
      Object period = services.get(worker).get("stop_grace_period");
      Duration given = period == null ? Duration.ofSeconds(10) : composeDuration(period.toString());
      assertThat(given)
          .as(
              "%s: stop_grace_period %s, but shutdown-deadline + stop-grace is %s",
              worker, period, needed)
          .isGreaterThan(needed);
    }
  }

  @Test
  void everyWorkerHasItsOwnWorkerId() {
    Map<String, String> ids = new TreeMap<>();
    for (String worker : servicesRunning("worker-runtime").keySet()) {
      String id = setting(worker, "workron.worker.id");
      assertThat(id).as("%s: WORKRON_WORKER_ID", worker).isNotBlank();
      assertThat(ids.values())
          .as("worker ids so far %s; %s repeats %s", ids, worker, id)
          .doesNotContain(id);
      ids.put(worker, id);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // (d) images

  @Test
  void eachWorkronServiceIsBuiltFromTheModuleThatProducesItUnderItsImageName() {
    EXPECTED_SERVICES.forEach(
        (service, module) -> {
          assertThat(services).as("services in docker-compose.yml").containsKey(service);
          assertThat(moduleOf(service))
              .as("%s's build (context + dockerfile) should be module %s", service, module)
              .isEqualTo(module);
        });
    workronServices()
        .forEach(
            (service, module) -> {
              assertThat(MODULE_PACKAGES)
                  .as("%s is built from %s, which is not a service module", service, module)
                  .containsKey(module);
              assertThat(services.get(service).get("image"))
                  .as("%s's image name", service)
                  .isEqualTo("workron/" + module + ":dev");
            });
    assertThat(services.get(kafkaListeners().service()).get("image"))
        .isEqualTo("apache/kafka:4.1.1");
    assertThat(services.get(serviceWithImage("postgres:")).get("image")).isEqualTo("postgres:17");
  }

  @Test
  void eachDockerfileCopiesTheJarItsModuleBuildsAndRunsItAsANonRootUser() throws Exception {
    for (String service : workronServices().keySet()) {
      String module = moduleOf(service);
      Path context = buildContext(service);
      Path dockerfile = dockerfile(service);
      List<String> lines = dockerfileInstructions(dockerfile);
      Path jar = root.resolve(module).resolve("target").resolve(execJarName(module));
      String expectedSource = context.relativize(jar).toString().replace('\\', '/');

      assertThat(instruction(lines, "FROM"))
          .as("%s: base image", dockerfile)
          .containsExactly("eclipse-temurin:17-jre");
      List<String> copies = instruction(lines, "COPY");
      String copy =
          copies.stream()
              .filter(c -> c.contains(".jar"))
              .findFirst()
              .orElseGet(() -> fail("%s copies no jar; expected %s", dockerfile, expectedSource));
      String[] parts = copy.replaceAll("--\\S+", "").trim().split("\\s+");
      assertThat(parts[0])
          .as("%s copies %s, but module %s builds %s", dockerfile, parts[0], module, expectedSource)
          .isEqualTo(expectedSource);
      String destination = parts[parts.length - 1];
      assertThat(
              String.join(" ", instruction(lines, "ENTRYPOINT"))
                  + String.join(" ", instruction(lines, "CMD")))
          .as("%s runs the jar it copied to %s", dockerfile, destination)
          .contains("\"-jar\"")
          .contains(destination);
      List<String> users = instruction(lines, "USER");
      assertThat(users).as("%s sets a USER", dockerfile).isNotEmpty();
      assertThat(users.get(users.size() - 1))
          .as("%s runs as root", dockerfile)
          .isNotIn("root", "0", "0:0");
      assertThat(instruction(lines, "EXPOSE"))
          .as(
              "%s EXPOSE, but %s.properties has server.port %s",
              dockerfile, module, modulePort(module))
          .contains(modulePort(module));
      if (module.equals("worker-runtime")) {
        assertThat(String.join("\n", instruction(lines, "RUN")))
            .as("%s makes sure setsid and /bin/sh are present", dockerfile)
            .contains("setsid")
            .contains("util-linux")
            .contains("/bin/sh");
      }
      assertThat(dockerIgnores(context, expectedSource))
          .as("%s/.dockerignore leaves %s out of the build context", context, expectedSource)
          .isFalse();

      // the JVM flags: the file the bench starts the service with, passed as an argument file
      String options = module + "/src/main/resources/META-INF/workron/" + module + ".jvm.options";
      assertThat(root.resolve(options)).as("%s's JVM flags", module).isRegularFile();
      String optionsCopy =
          copies.stream()
              .filter(c -> c.contains(options))
              .findFirst()
              .orElseGet(() -> fail("%s does not copy %s", dockerfile, options));
      String[] optionParts = optionsCopy.replaceAll("--\\S+", "").trim().split("\\s+");
      assertThat(String.join(" ", instruction(lines, "ENTRYPOINT")))
          .as("%s passes its JVM flags file to java", dockerfile)
          .contains("\"@" + optionParts[optionParts.length - 1] + "\"");
      assertThat(dockerIgnores(context, options))
          .as("%s/.dockerignore leaves %s out of the build context", context, options)
          .isFalse();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // compose model helpers

  private static Map<String, String> workronServices() {
    Map<String, String> result = new TreeMap<>();
    services.forEach(
        (name, service) -> {
          Object image = service.get("image");
          if (service.containsKey("build")
              || (image != null && image.toString().startsWith("workron/"))) {
            result.put(name, moduleOf(name));
          }
        });
    return result;
  }

  private static Map<String, String> servicesRunning(String module) {
    Map<String, String> result = new TreeMap<>();
    workronServices()
        .forEach(
            (s, m) -> {
              if (m.equals(module)) {
                result.put(s, m);
              }
            });
    return result;
  }

  private static String serviceWithImage(String prefix) {
    return services.entrySet().stream()
        .filter(e -> String.valueOf(e.getValue().get("image")).startsWith(prefix))
        .map(Map.Entry::getKey)
        .findFirst()
        .orElseGet(() -> fail("no service with an image %s*", prefix));
  }

  private static Path buildContext(String service) {
    Object build = services.get(service).get("build");
    if (build == null) {
      return fail("%s has no build section", service);
    }
    String context =
        build instanceof Map<?, ?> m ? String.valueOf(m.get("context")) : build.toString();
    return root.resolve(context).normalize();
  }

  private static Path dockerfile(String service) {
    Object build = services.get(service).get("build");
    Object dockerfile = build instanceof Map<?, ?> m ? m.get("dockerfile") : null;
    Path file =
        buildContext(service)
            .resolve(dockerfile == null ? "Dockerfile" : dockerfile.toString())
            .normalize();
    assertThat(file).as("%s's Dockerfile", service).isRegularFile();
    return file;
  }

  /** The module whose folder holds the service's Dockerfile. */
  private static String moduleOf(String service) {
    Path folder = root.relativize(dockerfile(service).getParent());
    return folder.toString().replace('\\', '/');
  }

  private static Map<String, String> environment(String service) {
    Object env = services.get(service).get("environment");
    Map<String, String> result = new LinkedHashMap<>();
    if (env instanceof Map<?, ?> m) {
      m.forEach((k, v) -> result.put(k.toString(), v == null ? "" : interpolate(v.toString())));
    } else if (env instanceof List<?> l) {
      for (Object entry : l) {
        String s = entry.toString();
        int eq = s.indexOf('=');
        result.put(eq < 0 ? s : s.substring(0, eq), eq < 0 ? "" : interpolate(s.substring(eq + 1)));
      }
    }
    return result;
  }

  /**
   * Compose's ${VAR:-default} and ${VAR-default}, resolved to their defaults (not the host's env);
   * ${VAR:?message}, which compose refuses to start without, to {@code <required VAR>}.
   */
  static String interpolate(String value) {
    Matcher m =
        Pattern.compile("\\$\\{([A-Za-z0-9_]+)(?::?([-?])([^}]*))?}")
            .matcher(value.replace("$$", "\u0000"));
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String resolved =
          m.group(2) == null
              ? ""
              : m.group(2).equals("?") ? "<required " + m.group(1) + ">" : m.group(3);
      m.appendReplacement(out, Matcher.quoteReplacement(resolved));
    }
    m.appendTail(out);
    return out.toString().replace("\u0000", "$");
  }

  /** The environment variable of a service that sets {@code key}, by Spring's relaxed rules. */
  private static String variableFor(String service, String key) {
    return environment(service).keySet().stream()
        .filter(v -> canonical(v).equals(canonical(key)))
        .findFirst()
        .orElse(null);
  }

  /**
   * The value of a property for a service: its environment, else its properties file, else the
   * record default.
   */
  private static String setting(String service, String key) {
    String variable = variableFor(service, key);
    if (variable != null) {
      return environment(service).get(variable);
    }
    return readKeys.get(moduleOf(service)).valueOf(key);
  }

  private static int listeningPort(String service) {
    return Integer.parseInt(setting(service, "server.port"));
  }

  private static String modulePort(String module) {
    return readKeys.get(module).valueOf("server.port");
  }

  private static Map<String, String> dependsOn(String service) {
    Object value = services.get(service).get("depends_on");
    Map<String, String> result = new LinkedHashMap<>();
    if (value instanceof List<?> l) {
      l.forEach(d -> result.put(d.toString(), "service_started"));
    } else if (value instanceof Map<?, ?> m) {
      m.forEach(
          (d, spec) -> {
            Object condition = spec instanceof Map<?, ?> s ? s.get("condition") : null;
            result.put(d.toString(), condition == null ? "service_started" : condition.toString());
          });
    }
    return result;
  }

  private static String healthcheck(String service) {
    Object check = services.get(service).get("healthcheck");
    if (!(check instanceof Map<?, ?> m)
        || Boolean.TRUE.equals(m.get("disable"))
        || m.get("test") == null) {
      return "";
    }
    Object test = m.get("test");
    return test instanceof List<?> l
        ? l.stream().map(Object::toString).collect(Collectors.joining(" "))
        : test.toString();
  }

  record PortMapping(String raw, String published, int target) {}

  private static List<PortMapping> ports(String service) {
    Object value = services.get(service).get("ports");
    List<PortMapping> result = new ArrayList<>();
    if (value instanceof List<?> l) {
      for (Object entry : l) {
        if (entry instanceof Map<?, ?> m) {
          result.add(
              new PortMapping(
                  m.toString(),
                  String.valueOf(m.get("published")),
                  Integer.parseInt(String.valueOf(m.get("target")))));
        } else {
          String raw = interpolate(entry.toString());
          String[] parts = raw.replaceFirst("/(tcp|udp)$", "").split(":");
          String target = parts[parts.length - 1];
          String published = parts.length >= 2 ? parts[parts.length - 2] : target;
          result.add(new PortMapping(raw, published, Integer.parseInt(target)));
        }
      }
    }
    return result;
  }

  private static Duration composeDuration(String value) {
    Matcher m = Pattern.compile("(\\d+)(us|ms|s|m|h)").matcher(value);
    Duration total = Duration.ZERO;
    int end = 0;
    while (m.find()) {
      assertThat(m.start()).as("compose duration %s", value).isEqualTo(end);
      long n = Long.parseLong(m.group(1));
      total =
          total.plus(
              switch (m.group(2)) {
                case "us" -> Duration.ofNanos(n * 1000);
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
              });
      end = m.end();
    }
    assertThat(end).as("compose duration %s", value).isEqualTo(value.length()).isPositive();
    return total;
  }

  record KafkaListeners(
      String service,
      Set<String> names,
      Map<String, Integer> listeners,
      Map<String, String> bindHosts,
      Map<String, String> advertised,
      Set<String> controllerListeners) {

    String listenerOnPort(int port) {
      return listeners.entrySet().stream()
          .filter(e -> e.getValue() == port)
          .map(Map.Entry::getKey)
          .findFirst()
          .orElse(null);
    }
  }

  private static KafkaListeners kafkaListeners() {
    String service = serviceWithImage("apache/kafka");
    Map<String, String> env = environment(service);
    Set<String> names = new LinkedHashSet<>(List.of(service));
    Object hostname = services.get(service).get("hostname");
    if (hostname != null) {
      names.add(hostname.toString());
    }
    Map<String, Integer> listeners = new LinkedHashMap<>();
    Map<String, String> bindHosts = new LinkedHashMap<>();
    listenerUris(env.get("KAFKA_LISTENERS"), service, "KAFKA_LISTENERS")
        .forEach(
            (name, hostPort) -> {
              int colon = hostPort.lastIndexOf(':');
              listeners.put(name, Integer.parseInt(hostPort.substring(colon + 1)));
              bindHosts.put(name, hostPort.substring(0, colon));
            });
    Map<String, String> advertised =
        listenerUris(env.get("KAFKA_ADVERTISED_LISTENERS"), service, "KAFKA_ADVERTISED_LISTENERS");
    Set<String> controllers =
        Set.of(
            env.getOrDefault("KAFKA_CONTROLLER_LISTENER_NAMES", "CONTROLLER").split("\\s*,\\s*"));
    return new KafkaListeners(service, names, listeners, bindHosts, advertised, controllers);
  }

  private static Map<String, String> listenerUris(String value, String service, String variable) {
    assertThat(value).as("%s: %s", service, variable).isNotBlank();
    Map<String, String> result = new LinkedHashMap<>();
    for (String listener : value.split(",")) {
      Matcher m = Pattern.compile("([A-Za-z0-9_]+)://([^:]*):(\\d+)").matcher(listener.trim());
      assertThat(m.matches()).as("%s: %s entry %s", service, variable, listener).isTrue();
      result.put(m.group(1), m.group(2) + ":" + m.group(3));
    }
    return result;
  }

  // ---------------------------------------------------------------------------------------------
  // Dockerfile and pom helpers

  /** Instructions with comments dropped and continuation lines joined. */
  static List<String> dockerfileInstructions(Path dockerfile) throws IOException {
    List<String> result = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : Files.readAllLines(dockerfile)) {
      String trimmed = line.trim();
      if (trimmed.startsWith("#") || (trimmed.isEmpty() && current.isEmpty())) {
        continue;
      }
      if (trimmed.endsWith("\\")) {
        current.append(trimmed, 0, trimmed.length() - 1).append(' ');
      } else {
        current.append(trimmed);
        result.add(current.toString().trim());
        current.setLength(0);
      }
    }
    return result;
  }

  static List<String> instruction(List<String> lines, String keyword) {
    return lines.stream()
        .filter(l -> l.regionMatches(true, 0, keyword + " ", 0, keyword.length() + 1))
        .map(l -> l.substring(keyword.length()).trim())
        .toList();
  }

  /** The name of the executable jar the module's pom produces. */
  private static String execJarName(String module) throws Exception {
    Element pom = xml(root.resolve(module).resolve("pom.xml"));
    Element top = xml(root.resolve("pom.xml"));
    String artifactId = child(pom, "artifactId");
    String version = child(pom, "version");
    if (version == null) {
      version = child(top, "version");
    }
    Element build = firstElement(pom, "build");
    String finalName = build == null ? null : child(build, "finalName");
    String base = finalName != null ? finalName : artifactId + "-" + version;
    String classifier = null;
    NodeList plugins = pom.getElementsByTagName("plugin");
    for (int i = 0; i < plugins.getLength(); i++) {
      Element plugin = (Element) plugins.item(i);
      if ("spring-boot-maven-plugin".equals(child(plugin, "artifactId"))) {
        NodeList classifiers = plugin.getElementsByTagName("classifier");
        if (classifiers.getLength() > 0) {
          classifier = classifiers.item(0).getTextContent().trim();
        }
      }
    }
    assertThat(artifactId).as("%s/pom.xml artifactId", module).isEqualTo("workron-" + module);
    assertThat(classifier)
        .as("%s/pom.xml: spring-boot repackage classifier", module)
        .isEqualTo("exec");
    return base + "-" + classifier + ".jar";
  }

  private static Element xml(Path file) throws Exception {
    DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
    factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    Document document = factory.newDocumentBuilder().parse(file.toFile());
    return document.getDocumentElement();
  }

  /** Text of a direct child element, or null. */
  private static String child(Element parent, String name) {
    Element e = firstElement(parent, name);
    return e == null ? null : e.getTextContent().trim();
  }

  private static Element firstElement(Element parent, String name) {
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && name.equals(e.getTagName())) {
        return e;
      }
    }
    return null;
  }

  /**
   * Whether the context's .dockerignore leaves out a path: the last pattern that matches the path
   * or one of its parent folders decides, and a pattern starting with ! lets it back in.
   */
  private static boolean dockerIgnores(Path context, String relativePath) throws IOException {
    Path file = context.resolve(".dockerignore");
    if (!Files.isRegularFile(file)) {
      return false;
    }
    boolean ignored = false;
    for (String line : Files.readAllLines(file)) {
      String pattern = line.trim();
      if (pattern.isEmpty() || pattern.startsWith("#")) {
        continue;
      }
      boolean negated = pattern.startsWith("!");
      String glob = (negated ? pattern.substring(1) : pattern).replaceFirst("^/", "");
      PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + glob);
      Path candidate = Path.of(relativePath);
      boolean matches = false;
      for (Path p = candidate; p != null; p = p.getParent()) {
        matches |= matcher.matches(p);
      }
      if (matches) {
        ignored = !negated;
      }
    }
    return ignored;
  }

  // ---------------------------------------------------------------------------------------------
  // what each service reads

  /** Spring's relaxed form: lower case, every character that is not a letter or digit removed. */
  static String canonical(String name) {
    return name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
  }

  private static String relaxedPropertyName(String variable) {
    return variable.toLowerCase(Locale.ROOT).replace('_', '.');
  }

  /**
   * The property keys one service reads: its own properties file, the components of its
   * {@code @ConfigurationProperties} types, and {@code @Value} placeholders in its package.
   */
  record ReadKeys(
      Map<String, String> fileValues,
      Map<String, String> keys,
      Set<String> mapPrefixes,
      Map<String, String> defaults,
      List<String> configurationPropertiesTypes) {

    boolean reads(String variable) {
      String c = canonical(variable);
      return keys.containsKey(c)
          || mapPrefixes.stream().anyMatch(p -> c.startsWith(p) && c.length() > p.length());
    }

    String valueOf(String key) {
      String c = canonical(key);
      return fileValues.entrySet().stream()
          .filter(e -> canonical(e.getKey()).equals(c))
          .map(Map.Entry::getValue)
          .findFirst()
          .orElse(defaults.get(c));
    }

    boolean usesDataSource() {
      String excluded = fileValues.getOrDefault("spring.autoconfigure.exclude", "");
      return fileValues.containsKey("spring.datasource.url")
          && !excluded.contains("DataSourceAutoConfiguration");
    }

    static ReadKeys of(String module, String basePackage) throws IOException {
      Properties file = new Properties();
      String resource = module + ".properties";
      try (var in = ComposeFileTest.class.getClassLoader().getResourceAsStream(resource)) {
        assertThat(in).as("%s on the classpath (module %s)", resource, module).isNotNull();
        file.load(in);
      }
      Map<String, String> fileValues = new TreeMap<>();
      file.stringPropertyNames().forEach(k -> fileValues.put(k, file.getProperty(k)));
      Map<String, String> keys = new TreeMap<>();
      fileValues.keySet().forEach(k -> keys.put(canonical(k), k));
      Set<String> mapPrefixes = new LinkedHashSet<>();
      Map<String, String> defaults = new TreeMap<>();
      List<String> types = new ArrayList<>();

      ClassLoader loader = ComposeFileTest.class.getClassLoader();
      PathMatchingResourcePatternResolver resolver =
          new PathMatchingResourcePatternResolver(loader);
      MetadataReaderFactory readers = new CachingMetadataReaderFactory(resolver);
      Resource[] classes =
          resolver.getResources("classpath*:" + basePackage.replace('.', '/') + "/**/*.class");
      for (Resource r : classes) {
        String name = readers.getMetadataReader(r).getClassMetadata().getClassName();
        Class<?> type;
        try {
          type = Class.forName(name, false, loader);
        } catch (ClassNotFoundException | LinkageError e) {
          continue;
        }
        ConfigurationProperties onType =
            AnnotatedElementUtils.findMergedAnnotation(type, ConfigurationProperties.class);
        if (onType != null) {
          types.add(type.getName());
          bind(onType.prefix(), type, keys, mapPrefixes, defaults);
        }
        try {
          for (Method m : type.getDeclaredMethods()) {
            ConfigurationProperties onMethod =
                AnnotatedElementUtils.findMergedAnnotation(m, ConfigurationProperties.class);
            if (onMethod != null) {
              types.add(type.getName() + "#" + m.getName());
              bind(onMethod.prefix(), m.getReturnType(), keys, mapPrefixes, defaults);
            }
            valueKeys(m, keys);
            for (Parameter p : m.getParameters()) {
              valueKeys(p, keys);
            }
          }
          for (Constructor<?> c : type.getDeclaredConstructors()) {
            for (Parameter p : c.getParameters()) {
              valueKeys(p, keys);
            }
          }
          for (Field f : type.getDeclaredFields()) {
            valueKeys(f, keys);
          }
        } catch (LinkageError e) {
          // a class whose members cannot be resolved here declares no keys we can see
        }
      }
      return new ReadKeys(fileValues, keys, mapPrefixes, defaults, types);
    }

    private static void bind(
        String prefix,
        Class<?> type,
        Map<String, String> keys,
        Set<String> mapPrefixes,
        Map<String, String> defaults) {
      if (type.isRecord()) {
        RecordComponent[] components = type.getRecordComponents();
        Class<?>[] signature =
            Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new);
        Parameter[] parameters;
        try {
          parameters = type.getDeclaredConstructor(signature).getParameters();
        } catch (NoSuchMethodException e) {
          parameters = null;
        }
        for (int i = 0; i < components.length; i++) {
          RecordComponent component = components[i];
          String key = prefix + "." + component.getName();
          DefaultValue value =
              parameters == null ? null : parameters[i].getAnnotation(DefaultValue.class);
          if (value != null && value.value().length > 0) {
            defaults.put(canonical(key), String.join(",", value.value()));
          }
          bindMember(key, component.getType(), keys, mapPrefixes, defaults);
        }
      } else {
        for (Method m : type.getMethods()) {
          if (m.getName().startsWith("set")
              && m.getParameterCount() == 1
              && m.getName().length() > 3) {
            String name = Character.toLowerCase(m.getName().charAt(3)) + m.getName().substring(4);
            bindMember(prefix + "." + name, m.getParameterTypes()[0], keys, mapPrefixes, defaults);
          }
        }
      }
    }

    private static void bindMember(
        String key,
        Class<?> type,
        Map<String, String> keys,
        Set<String> mapPrefixes,
        Map<String, String> defaults) {
      keys.put(canonical(key), key);
      if (Map.class.isAssignableFrom(type)
          || Properties.class.isAssignableFrom(type)
          // a list of records (workron.auth.tokens[0].name): WORKRON_AUTH_TOKENS_0_NAME
          || java.util.List.class.isAssignableFrom(type)) {
        mapPrefixes.add(canonical(key));
      } else if (type.getName().startsWith("io.workron.") && !type.isEnum()) {
        bind(key, type, keys, mapPrefixes, defaults);
      }
    }

    private static final Pattern PLACEHOLDER = Pattern.compile("\\$\\{([^:}$]+)");

    private static void valueKeys(AnnotatedElement element, Map<String, String> keys) {
      Value value = element.getAnnotation(Value.class);
      if (value != null) {
        Matcher m = PLACEHOLDER.matcher(value.value());
        while (m.find()) {
          keys.put(canonical(m.group(1)), m.group(1));
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** The folder holding the top-level pom.xml, found by walking up from the working directory. */
  static Path repositoryRoot() {
    Path dir = Path.of("").toAbsolutePath();
    Path top = null;
    for (Path p = dir; p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("pom.xml"))) {
        top = p;
      } else if (top != null) {
        break;
      }
    }
    assertThat(top).as("a folder with pom.xml above %s", dir).isNotNull();
    return top;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object value, String what) {
    assertThat(value).as("%s is a mapping", what).isInstanceOf(Map.class);
    return (Map<String, Object>) value;
  }
}
