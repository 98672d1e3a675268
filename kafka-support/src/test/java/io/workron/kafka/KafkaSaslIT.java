package io.workron.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workron.embedded.EmbeddedKafka;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real broker that asks for SASL, and the client settings a service derives from {@code
 * workron.kafka.username} and {@code .password}: the right password is let in, a wrong one is
 * refused as such, and a client that does not log in gets nothing from the broker.
 */
class KafkaSaslIT {

  @TempDir Path dir;

  @Test
  void plainUsersOfTheBrokerAreLetInAndNobodyElse() throws Exception {
    checkLogins("PLAIN");
  }

  @Test
  void scramUsersWrittenWhenTheLogDirectoryIsFormattedAreLetInAndNobodyElse() throws Exception {
    checkLogins("SCRAM-SHA-512");
  }

  private void checkLogins(String mechanism) throws Exception {
    try (EmbeddedKafka kafka =
        EmbeddedKafka.start(
            dir.resolve(mechanism),
            "127.0.0.1",
            0,
            new EmbeddedKafka.Sasl(mechanism, Map.of("workron", "right-password")))) {
      Map<String, Object> workron = client(kafka, "workron", "right-password", mechanism);
      try (Admin admin = Admin.create(workron)) {
        admin
            .createTopics(List.of(new NewTopic("t", 1, (short) 1)))
            .all()
            .get(30, TimeUnit.SECONDS);
      }
      try (KafkaProducer<String, String> producer =
          new KafkaProducer<>(workron, new StringSerializer(), new StringSerializer())) {
        assertThat(
                producer
                    .send(new ProducerRecord<>("t", "k", "v"))
                    .get(30, TimeUnit.SECONDS)
                    .offset())
            .isZero();
      }

      try (Admin wrong = Admin.create(client(kafka, "workron", "wrong-password", mechanism))) {
        assertThatThrownBy(() -> wrong.listTopics().names().get(30, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class)
            .hasCauseInstanceOf(SaslAuthenticationException.class);
      }
      try (Admin stranger = Admin.create(client(kafka, "stranger", "right-password", mechanism))) {
        assertThatThrownBy(() -> stranger.listTopics().names().get(30, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class)
            .hasCauseInstanceOf(SaslAuthenticationException.class);
      }

      // no login at all: the broker answers nothing but the SASL handshake, so the call runs out
      // of time instead of listing the topic
      Map<String, Object> anonymous = new HashMap<>();
      anonymous.put("bootstrap.servers", kafka.bootstrapServers());
      anonymous.put("default.api.timeout.ms", 3000);
      anonymous.put("request.timeout.ms", 1000);
      try (Admin open = Admin.create(anonymous)) {
        assertThatThrownBy(() -> open.listTopics().names().get(30, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class)
            .hasCauseInstanceOf(org.apache.kafka.common.errors.TimeoutException.class);
      }
    }
  }

  /** A client configured as a service's Spring Boot settings configure it. */
  private static Map<String, Object> client(
      EmbeddedKafka kafka, String user, String password, String mechanism) {
    Map<String, Object> settings =
        KafkaSaslSettings.settings(user, password, mechanism, "PLAINTEXT");
    Map<String, Object> config = new HashMap<>();
    config.put("bootstrap.servers", kafka.bootstrapServers());
    config.put("security.protocol", settings.get(KafkaSaslSettings.PROTOCOL));
    config.put("sasl.mechanism", settings.get(KafkaSaslSettings.SASL_MECHANISM));
    config.put("sasl.jaas.config", settings.get(KafkaSaslSettings.JAAS_CONFIG));
    return config;
  }
}
