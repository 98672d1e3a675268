package io.workron.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedServersTest {

  @TempDir Path dir;

  @Test
  void kafkaKeepsMessagesAcrossARestartOfTheBroker() throws Exception {
    String seen;
    try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"), "127.0.0.1", 0)) {
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
        admin.createTopics(List.of(new NewTopic("t", 1, (short) 1))).all().get();
      }
      try (KafkaProducer<String, String> producer =
          new KafkaProducer<>(
              Map.of("bootstrap.servers", kafka.bootstrapServers()),
              new StringSerializer(),
              new StringSerializer())) {
        producer.send(new ProducerRecord<>("t", "k", "hello")).get();
      }
      seen = kafka.bootstrapServers();
    }
    int port = Integer.parseInt(seen.substring(seen.lastIndexOf(':') + 1));
    try (EmbeddedKafka kafka = EmbeddedKafka.start(dir.resolve("kafka"), "127.0.0.1", port)) {
      Properties props = new Properties();
      props.put("bootstrap.servers", kafka.bootstrapServers());
      props.put("group.id", "g");
      props.put("auto.offset.reset", "earliest");
      try (KafkaConsumer<String, String> consumer =
          new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
        consumer.subscribe(List.of("t"));
        String value = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (value == null && System.nanoTime() < deadline) {
          ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(500));
          if (!records.isEmpty()) {
            value = records.iterator().next().value();
          }
        }
        assertThat(value).isEqualTo("hello");
      }
    }
  }

  @Test
  void postgresKeepsDataAcrossARestart() throws Exception {
    Path data = dir.resolve("pg");
    try (EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(data, 0, true);
        Connection c = DriverManager.getConnection(pg.jdbcUrl(), "postgres", "postgres")) {
      c.createStatement().execute("create table t(v text)");
      c.createStatement().execute("insert into t values ('kept')");
    }
    try (EmbeddedPostgresServer pg = EmbeddedPostgresServer.start(data, 0, true);
        Connection c = DriverManager.getConnection(pg.jdbcUrl(), "postgres", "postgres");
        ResultSet rs = c.createStatement().executeQuery("select v, version() from t")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isEqualTo("kept");
      assertThat(rs.getString(2)).startsWith("PostgreSQL 17");
    }
  }
}
