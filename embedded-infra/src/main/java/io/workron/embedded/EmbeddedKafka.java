package io.workron.embedded;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A real Kafka broker in KRaft combined mode (broker and controller in one node) running inside
 * this JVM. Its log directory is kept across restarts when the caller passes a persistent path, so
 * topics and offsets survive like on any broker.
 */
public final class EmbeddedKafka implements AutoCloseable {

  /** The user the broker logs in as on its own listener when it asks for SASL. */
  public static final String BROKER_USER = "embedded-broker";

  private final KafkaRaftServer server;
  private final String bootstrapServers;
  private final Path logDir;

  private EmbeddedKafka(KafkaRaftServer server, String bootstrapServers, Path logDir) {
    this.server = server;
    this.bootstrapServers = bootstrapServers;
    this.logDir = logDir;
  }

  /**
   * SASL on the client listener: every client must log in as one of {@code users} (name to
   * password) with {@code mechanism}, PLAIN or SCRAM-SHA-256/512. PLAIN users live in the
   * listener's JAAS configuration; SCRAM users are written into the cluster's metadata when the log
   * directory is formatted, as {@code kafka-storage.sh format --add-scram} does, so they are only
   * taken from the first start of a directory.
   */
  public record Sasl(String mechanism, Map<String, String> users) {

    public Sasl {
      if (!mechanism.equals("PLAIN") && !mechanism.startsWith("SCRAM-SHA-")) {
        throw new IllegalArgumentException("not a SASL mechanism this broker offers: " + mechanism);
      }
      users = Map.copyOf(users);
    }

    boolean scram() {
      return mechanism.startsWith("SCRAM-");
    }
  }

  /**
   * Formats {@code logDir} if it is new, then starts the broker.
   *
   * @param port the client port, or 0 for a free one
   */
  public static EmbeddedKafka start(Path logDir, String host, int port) throws IOException {
    return start(logDir, host, port, null);
  }

  /**
   * Like {@link #start(Path, String, int)}, with SASL on the client listener when {@code sasl} is
   * not null. The controller listener stays on loopback without authentication, unreachable from
   * any other machine.
   */
  public static EmbeddedKafka start(Path logDir, String host, int port, Sasl sasl)
      throws IOException {
    Files.createDirectories(logDir);
    int brokerPort = port == 0 ? freePort() : port;
    // a restart passes its old client port, which is free again now: the controller must not get it
    int controllerPort = freePortOtherThan(brokerPort);
    Properties props = new Properties();
    props.put("process.roles", "broker,controller");
    props.put("node.id", "1");
    props.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
    String client = sasl == null ? "PLAINTEXT" : "SASL_PLAINTEXT";
    props.put(
        "listeners",
        client + "://" + host + ":" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
    props.put("advertised.listeners", client + "://" + host + ":" + brokerPort);
    props.put("controller.listener.names", "CONTROLLER");
    props.put("inter.broker.listener.name", client);
    props.put("listener.security.protocol.map", client + ":" + client + ",CONTROLLER:PLAINTEXT");
    List<String> scramCredentials = new ArrayList<>();
    if (sasl != null) {
      // the broker logs in to its own listener as a user of its own
      String brokerPassword = UUID.randomUUID().toString();
      Map<String, String> users = new LinkedHashMap<>(sasl.users());
      users.put(BROKER_USER, brokerPassword);
      props.put("sasl.enabled.mechanisms", sasl.mechanism());
      props.put("sasl.mechanism.inter.broker.protocol", sasl.mechanism());
      StringBuilder jaas =
          new StringBuilder(
              sasl.scram()
                  ? "org.apache.kafka.common.security.scram.ScramLoginModule"
                  : "org.apache.kafka.common.security.plain.PlainLoginModule");
      jaas.append(" required username=\"")
          .append(BROKER_USER)
          .append("\" password=\"")
          .append(brokerPassword)
          .append('"');
      users.forEach(
          (name, password) -> {
            if (sasl.scram()) {
              scramCredentials.add(
                  sasl.mechanism() + "=[name=" + name + ",password=" + password + "]");
            } else {
              jaas.append(" user_").append(name).append("=\"").append(password).append('"');
            }
          });
      props.put(
          "listener.name.sasl_plaintext."
              + sasl.mechanism().toLowerCase(Locale.ROOT)
              + ".sasl.jaas.config",
          jaas.append(';').toString());
    }
    props.put("log.dirs", logDir.toString());
    props.put("offsets.topic.replication.factor", "1");
    props.put("offsets.topic.num.partitions", "4");
    props.put("transaction.state.log.replication.factor", "1");
    props.put("transaction.state.log.min.isr", "1");
    props.put("transaction.state.log.num.partitions", "4");
    props.put("share.coordinator.state.topic.replication.factor", "1");
    props.put("share.coordinator.state.topic.min.isr", "1");
    props.put("group.initial.rebalance.delay.ms", "0");
    // lets the scheduler's consumers use a 3 s session, so a dead replica's partitions move fast
    props.put("group.min.session.timeout.ms", "1000");
    props.put("auto.create.topics.enable", "false");
    props.put("num.partitions", "1");
    props.put("log.flush.interval.messages", Long.toString(Long.MAX_VALUE));
    KafkaConfig config = new KafkaConfig(props, false);

    if (sasl != null && sasl.scram() && Files.exists(logDir.resolve("meta.properties"))) {
      // a formatted directory keeps the SCRAM users of its first start, the broker's among them
      throw new IOException(
          "SCRAM users are written when a log directory is formatted; "
              + logDir
              + " is formatted already");
    }
    format(logDir, scramCredentials);
    KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
    server.startup();
    return new EmbeddedKafka(server, host + ":" + brokerPort, logDir);
  }

  /**
   * Starts a broker on a configuration given whole, as a broker's server.properties, on a log
   * directory something else has formatted (as {@code kafka-storage.sh format} does). For tests of
   * a broker configuration Workron ships, such as the compose file's.
   */
  public static EmbeddedKafka startConfigured(Properties config, String bootstrapServers) {
    KafkaConfig kafkaConfig = new KafkaConfig(config, false);
    KafkaRaftServer server = new KafkaRaftServer(kafkaConfig, Time.SYSTEM);
    server.startup();
    return new EmbeddedKafka(
        server, bootstrapServers, Path.of(config.getProperty("log.dirs").split(",")[0]));
  }

  private static void format(Path logDir, List<String> scramCredentials) throws IOException {
    if (Files.exists(logDir.resolve("meta.properties"))) {
      return;
    }
    try {
      new Formatter()
          .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
          .setNodeId(1)
          .setClusterId(Uuid.randomUuid().toString())
          .setDirectories(List.of(logDir.toString()))
          .setMetadataLogDirectory(logDir.toString())
          .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
          .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
          .setControllerListenerName("CONTROLLER")
          .setIgnoreFormatted(true)
          .setScramArguments(scramCredentials)
          .run();
    } catch (Exception e) {
      throw new IOException("could not format Kafka log directory " + logDir, e);
    }
  }

  /** A free port that is not {@code taken} (a port the caller will bind but has not yet). */
  static int freePortOtherThan(int taken) throws IOException {
    for (int tries = 0; tries < 100; tries++) {
      int port = freePort();
      if (port != taken) {
        return port;
      }
    }
    throw new IOException("no free port other than " + taken);
  }

  static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      socket.setReuseAddress(true);
      return socket.getLocalPort();
    }
  }

  /** {@code host:port} for clients' {@code bootstrap.servers}. */
  public String bootstrapServers() {
    return bootstrapServers;
  }

  public Path logDir() {
    return logDir;
  }

  @Override
  public void close() {
    server.shutdown();
    server.awaitShutdown();
  }
}
