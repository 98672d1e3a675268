package io.workron.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workron.embedded.EmbeddedKafka;
import io.workron.kafka.KafkaSaslSettings;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * The Kafka service of docker-compose.yml, run as far as this machine can without Docker: its own
 * start script formats a log directory (with Kafka's real storage tool) and writes the health
 * check's login; its {@code KAFKA_*} variables become a server.properties by the apache/kafka
 * image's rule and start a real broker on that directory. Then the Workron services' login from the
 * same file gets in, on the containers' listener and the host's; the health check's login gets in;
 * a wrong password and no login do not.
 *
 * <p>What is left to Docker: paths (the test's directory stands for /var/lib/kafka/data and /tmp),
 * ports and host names (free ports on 127.0.0.1), and the image's own start, which this replaces by
 * the same property rule.
 */
class ComposeKafkaIT {

  /** What {@code scripts/new-token.sh --compose} would have written to .env. */
  private static final Map<String, String> DOT_ENV =
      Map.of(
          "WORKRON_KAFKA_PASSWORD", "compose-kafka-password",
          "WORKRON_INTERNAL_API_TOKEN", "internal",
          "WORKRON_ADMIN_TOKEN_SHA256", "0".repeat(64));

  /** The apache/kafka image leaves these variables out of server.properties. */
  private static final Set<String> NOT_SERVER_PROPERTIES =
      Set.of(
          "KAFKA_VERSION",
          "KAFKA_HEAP_OPTS",
          "KAFKA_LOG4J_OPTS",
          "KAFKA_OPTS",
          "KAFKA_JMX_OPTS",
          "KAFKA_JVM_PERFORMANCE_OPTS",
          "KAFKA_GC_LOG_OPTS",
          "KAFKA_LOG4J_ROOT_LOGLEVEL",
          "KAFKA_LOG4J_LOGGERS",
          "KAFKA_TOOLS_LOG4J_LOGLEVEL",
          "KAFKA_JMX_HOSTNAME");

  @TempDir Path dir;

  @Test
  void theComposeBrokerLetsInTheServicesLoginAndTheHealthCheckAndNobodyElse() throws Exception {
    Map<String, Object> services = services();
    Map<String, Object> kafkaService = section(services, "kafka");
    Map<String, String> env = environment(kafkaService);
    Path data = dir.resolve("data");
    Path tmp = Files.createDirectories(dir.resolve("tmp"));

    runStartScript(kafkaService, env, data, tmp);
    assertThat(data.resolve("meta.properties")).as("the start script formats the log dir").exists();

    int internal = freePort();
    int controller = freePort();
    int host = freePort();
    Properties server = serverProperties(env);
    server.replaceAll(
        (k, v) ->
            v.toString()
                .replace("://:", "://127.0.0.1:")
                .replace("kafka:9092", "127.0.0.1:9092")
                .replace(":9092", ":" + internal)
                .replace(":9093", ":" + controller)
                .replace(":9094", ":" + host));
    server.put("log.dirs", data.toString());
    // a single node's internal topics: fewer partitions than the default fifty start faster
    server.put("offsets.topic.num.partitions", "1");

    try (EmbeddedKafka kafka = EmbeddedKafka.startConfigured(server, "127.0.0.1:" + internal)) {
      Map<String, String> scheduler = environment(section(services, "scheduler-core"));
      String username = scheduler.get("WORKRON_KAFKA_USERNAME");
      String password = scheduler.get("WORKRON_KAFKA_PASSWORD");
      assertThat(username).as("scheduler-core's WORKRON_KAFKA_USERNAME").isNotBlank();
      Map<String, Object> service =
          client(
              "127.0.0.1:" + internal,
              KafkaSaslSettings.settings(username, password, mechanism(), "PLAINTEXT"));
      try (Admin admin = Admin.create(service)) {
        admin
            .createTopics(List.of(new NewTopic("workron.compose", 1, (short) 1)))
            .all()
            .get(60, TimeUnit.SECONDS);
      }
      try (KafkaProducer<String, String> producer =
          new KafkaProducer<>(service, new StringSerializer(), new StringSerializer())) {
        assertThat(
                producer
                    .send(new ProducerRecord<>("workron.compose", "k", "v"))
                    .get(60, TimeUnit.SECONDS)
                    .offset())
            .isZero();
      }
      Map<String, Object> fromHost = new HashMap<>(service);
      fromHost.put("bootstrap.servers", "127.0.0.1:" + host);
      assertThat(topics(fromHost)).contains("workron.compose");

      Properties healthCheck = new Properties();
      try (InputStream in = Files.newInputStream(tmp.resolve("client.properties"))) {
        healthCheck.load(in);
      }
      Map<String, Object> probe = new HashMap<>();
      healthCheck.forEach((k, v) -> probe.put(k.toString(), v));
      probe.put("bootstrap.servers", "127.0.0.1:" + internal);
      assertThat(topics(probe)).contains("workron.compose");

      Map<String, Object> wrong =
          client(
              "127.0.0.1:" + internal,
              KafkaSaslSettings.settings(username, "not-the-password", mechanism(), "PLAINTEXT"));
      try (Admin admin = Admin.create(wrong)) {
        assertThatThrownBy(() -> admin.listTopics().names().get(60, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class)
            .hasCauseInstanceOf(SaslAuthenticationException.class);
      }

      Map<String, Object> anonymous = new HashMap<>();
      anonymous.put("bootstrap.servers", "127.0.0.1:" + host);
      anonymous.put("default.api.timeout.ms", 3000);
      anonymous.put("request.timeout.ms", 1000);
      try (Admin admin = Admin.create(anonymous)) {
        assertThatThrownBy(() -> admin.listTopics().names().get(60, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class)
            .hasCauseInstanceOf(org.apache.kafka.common.errors.TimeoutException.class);
      }
    }
  }

  @Test
  void theStartScriptRefusesAPasswordThatWouldBreakTheScramArgumentsBeforeFormatting()
      throws Exception {
    Map<String, Object> kafkaService = section(services(), "kafka");
    Map<String, String> env = environment(kafkaService);
    env.put("WORKRON_KAFKA_PASSWORD", "a,b]c");
    Path data = dir.resolve("refused");
    String out =
        runStartScript(kafkaService, env, data, Files.createDirectories(dir.resolve("t")), 1);
    assertThat(out).contains("WORKRON_KAFKA_PASSWORD");
    assertThat(data.resolve("meta.properties")).doesNotExist();
  }

  /**
   * Runs the service's {@code bash -ec} command with its environment, the container's paths moved
   * into the test's directory, Kafka's storage tool from this classpath, and the image's own start
   * left out.
   */
  private void runStartScript(
      Map<String, Object> kafkaService, Map<String, String> env, Path data, Path tmp)
      throws Exception {
    runStartScript(kafkaService, env, data, tmp, 0);
  }

  /** As above, expecting {@code exitCode}; returns what the script printed. */
  private String runStartScript(
      Map<String, Object> kafkaService, Map<String, String> env, Path data, Path tmp, int exitCode)
      throws Exception {
    Object command = kafkaService.get("command");
    assertThat(command).as("the kafka service's command").isInstanceOf(List.class);
    List<?> words = (List<?>) command;
    assertThat(List.of(words.get(0), words.get(1)))
        .as("the kafka service's command")
        .isEqualTo(List.of("bash", "-ec"));
    // compose turns $$ into $ before the shell sees the script
    String script = words.get(2).toString().replace("$$", "$");
    Map<String, String> paths = new LinkedHashMap<>();
    paths.put("/opt/kafka/bin/kafka-storage.sh", dir.resolve("kafka-storage.sh").toString());
    paths.put("/var/lib/kafka/data", data.toString());
    paths.put("/tmp/", tmp + "/");
    paths.put("exec /etc/kafka/docker/run", "exit 0");
    // through placeholders, so that a replacement is not replaced again (the test's directory is
    // under /tmp too)
    int n = 0;
    for (Map.Entry<String, String> path : paths.entrySet()) {
      assertThat(script).as("the kafka service's start script").contains(path.getKey());
      script = script.replace(path.getKey(), "\u0000" + n++ + "\u0000");
    }
    n = 0;
    for (String value : paths.values()) {
      script = script.replace("\u0000" + n++ + "\u0000", value);
    }
    Path storageTool = dir.resolve("kafka-storage.sh");
    Files.writeString(
        storageTool,
        "#!/usr/bin/env bash\nexec '"
            + Path.of(System.getProperty("java.home"), "bin", "java")
            + "' -cp \"$WORKRON_TEST_CLASSPATH\" kafka.tools.StorageTool \"$@\"\n");
    assertThat(storageTool.toFile().setExecutable(true)).isTrue();

    ProcessBuilder bash = new ProcessBuilder("bash", "-ec", script).redirectErrorStream(true);
    bash.environment().putAll(env);
    bash.environment().put("WORKRON_TEST_CLASSPATH", System.getProperty("java.class.path"));
    Process p = bash.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as(out).isTrue();
    assertThat(p.exitValue()).as("the start script: %s", out).isEqualTo(exitCode);
    return out;
  }

  /**
   * The image's rule: KAFKA_A_B becomes a.b, a double underscore _ and a triple one -, written as
   * {@code key=value} lines of server.properties, which the broker reads with {@link
   * Properties#load} (so a backslash in a value is read as an escape, as it would be there).
   */
  static Properties serverProperties(Map<String, String> env) {
    StringBuilder file = new StringBuilder();
    env.forEach(
        (name, value) -> {
          if (name.startsWith("KAFKA_") && !NOT_SERVER_PROPERTIES.contains(name)) {
            String key =
                name.replace("KAFKA_", "")
                    .toLowerCase(java.util.Locale.ROOT)
                    .replace("_", ".")
                    .replace("...", "-")
                    .replace("..", "_");
            file.append(key).append('=').append(value).append('\n');
          }
        });
    Properties server = new Properties();
    try {
      server.load(new java.io.StringReader(file.toString()));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return server;
  }

  private static String mechanism() throws IOException {
    Properties file = new Properties();
    try (InputStream in =
        ComposeKafkaIT.class.getClassLoader().getResourceAsStream("scheduler-core.properties")) {
      file.load(in);
    }
    return file.getProperty(KafkaSaslSettings.MECHANISM);
  }

  private static Map<String, Object> client(String bootstrap, Map<String, Object> settings) {
    Map<String, Object> config = new HashMap<>();
    config.put("bootstrap.servers", bootstrap);
    config.put("security.protocol", settings.get(KafkaSaslSettings.PROTOCOL));
    config.put("sasl.mechanism", settings.get(KafkaSaslSettings.SASL_MECHANISM));
    config.put("sasl.jaas.config", settings.get(KafkaSaslSettings.JAAS_CONFIG));
    return config;
  }

  private static Set<String> topics(Map<String, Object> config) throws Exception {
    try (Admin admin = Admin.create(config)) {
      return admin.listTopics().names().get(60, TimeUnit.SECONDS);
    }
  }

  private static Map<String, Object> services() throws IOException {
    Path file = ComposeFileTest.repositoryRoot().resolve("docker-compose.yml");
    try (Reader reader = Files.newBufferedReader(file)) {
      Map<String, Object> compose =
          section(
              Map.of("compose", new Yaml(new SafeConstructor(new LoaderOptions())).load(reader)),
              "compose");
      return section(compose, "services");
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> section(Map<String, Object> parent, String name) {
    assertThat(parent.get(name)).as(name).isInstanceOf(Map.class);
    return (Map<String, Object>) parent.get(name);
  }

  /** A service's environment as compose gives it, with .env holding {@link #DOT_ENV}. */
  private static Map<String, String> environment(Map<String, Object> service) {
    Map<String, String> result = new LinkedHashMap<>();
    section(service, "environment")
        .forEach((k, v) -> result.put(k, v == null ? "" : resolve(v.toString())));
    return result;
  }

  private static String resolve(String value) {
    Matcher m = Pattern.compile("\\$\\{([A-Za-z0-9_]+)(?::?([-?])([^}]*))?}").matcher(value);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String given = DOT_ENV.get(m.group(1));
      String resolved = given != null ? given : m.group(2) == null ? "" : m.group(3);
      m.appendReplacement(out, Matcher.quoteReplacement(resolved));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
