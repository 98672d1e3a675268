package io.workron.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.workron.schemas.Envelope;
import io.workron.schemas.Ids;
import io.workron.schemas.JobDispatch;
import io.workron.schemas.MessageType;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import io.workron.schemas.WorkerHeartbeat;
import io.workron.testsupport.TestInfrastructure;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * A worker run as the compose and Kubernetes shapes run it: its own JVM, Spring Boot's own logging
 * (no test logback file on the class path), {@code LOGGING_STRUCTURED_FORMAT_CONSOLE=ecs}. Every
 * line it writes to stdout is one JSON object, and the line that reports a job carries the job's
 * {@code job_id}, {@code attempt}, {@code worker_id}, the submission's {@code request_id} and the
 * attempt's {@code trace_id} and {@code span_id} as fields.
 */
class StructuredLogsIT {

  private static final Duration CEILING = Duration.ofSeconds(90);
  private static final WireCodec codec = new WireCodec();

  @Test
  void everyLineIsJsonAndTheJobsLineCarriesItsIds() throws Exception {
    TestInfrastructure infra = TestInfrastructure.get();
    Topics topics = new Topics(infra.newTopicPrefix());
    String workerId = "json-" + UUID.randomUUID().toString().substring(0, 8);
    Path state = Files.createTempDirectory("workron-json-logs");
    // the module's classes and its dependencies, without the test classes and their logback-test
    String classPath =
        Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
            .filter(e -> !e.endsWith("test-classes"))
            .collect(Collectors.joining(File.pathSeparator));
    ProcessBuilder builder =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                classPath,
                "-XX:TieredStopAtLevel=1",
                WorkerApplication.class.getName())
            .redirectErrorStream(true);
    builder
        .environment()
        .putAll(
            Map.of(
                "LOGGING_STRUCTURED_FORMAT_CONSOLE",
                "ecs",
                "SPRING_KAFKA_BOOTSTRAP_SERVERS",
                infra.kafkaBootstrapServers(),
                "WORKRON_TOPIC_PREFIX",
                topics.prefix(),
                "WORKRON_WORKER_ID",
                workerId,
                "WORKRON_WORKER_STATE_DIR",
                state.toString(),
                "WORKRON_WORKER_SHUTDOWN_DEADLINE",
                "1s",
                "SERVER_PORT",
                "0"));
    Process worker = builder.start();
    List<String> lines = new CopyOnWriteArrayList<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(
                      new InputStreamReader(worker.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                  lines.add(line);
                }
              } catch (java.io.IOException e) {
                // the process ended
              }
            },
            "worker-stdout");
    reader.start();
    try (TopicRecorder recorder =
            new TopicRecorder(infra.kafkaBootstrapServers(), List.of(topics.heartbeats()));
        KafkaProducer<String, byte[]> producer =
            new KafkaProducer<>(
                Map.of("bootstrap.servers", infra.kafkaBootstrapServers(), "acks", "all"),
                new StringSerializer(),
                new ByteArraySerializer())) {
      String incarnation =
          await()
              .atMost(CEILING)
              .until(() -> incarnation(recorder, topics, workerId), java.util.Optional::isPresent)
              .orElseThrow();
      String jobId = Ids.newJobId(Clock.systemUTC());
      JobDispatch dispatch =
          new JobDispatch(jobId, 2, workerId, incarnation, "echo hi", Map.of(), null);
      Envelope<JobDispatch> envelope =
          WireCodec.envelope(
              MessageType.JOB_DISPATCH,
              Ids.newMessageId("dispatch", Clock.systemUTC()),
              Instant.now(),
              dispatch);
      ProducerRecord<String, byte[]> record =
          new ProducerRecord<>(topics.dispatch(workerId), jobId, codec.encode(envelope));
      record.headers().add(Topics.REQUEST_ID_HEADER, "req-json".getBytes(StandardCharsets.UTF_8));
      // as scheduler-core's dispatch span sends it: the attempt's lines carry its trace
      String traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
      String dispatchSpan = "00f067aa0ba902b7";
      record
          .headers()
          .add(
              "traceparent",
              ("00-" + traceId + "-" + dispatchSpan + "-01").getBytes(StandardCharsets.UTF_8));
      producer.send(record).get(30, TimeUnit.SECONDS);

      JsonNode finished =
          await()
              .atMost(CEILING)
              .until(
                  () ->
                      lines.stream()
                          .filter(l -> l.contains("job finished"))
                          .map(l -> codec.mapper().readTree(l))
                          .findFirst(),
                  java.util.Optional::isPresent)
              .orElseThrow();
      assertThat(finished.get("job_id").asString()).isEqualTo(jobId);
      assertThat(finished.get("attempt").asString()).isEqualTo("2");
      assertThat(finished.get("worker_id").asString()).isEqualTo(workerId);
      assertThat(finished.get("request_id").asString()).isEqualTo("req-json");
      assertThat(finished.get("trace_id").asString()).isEqualTo(traceId);
      assertThat(finished.get("span_id").asString())
          .as("the attempt's own span, a child of the dispatch's")
          .matches("[0-9a-f]{16}")
          .isNotEqualTo(dispatchSpan);
      assertThat(finished.get("service").get("name").asString()).isEqualTo("worker-runtime");
      assertThat(finished.get("log").get("level").asString()).isEqualTo("INFO");
    } finally {
      worker.destroy();
      assertThat(worker.waitFor(60, TimeUnit.SECONDS)).isTrue();
      reader.join(10_000);
    }
    // from the first line to the shutdown: nothing but JSON objects
    assertThat(lines).hasSizeGreaterThan(5);
    for (String line : lines) {
      assertThat(codec.mapper().readTree(line).isObject()).as(line).isTrue();
    }
  }

  private static java.util.Optional<String> incarnation(
      TopicRecorder recorder, Topics topics, String workerId) throws Exception {
    for (var r : recorder.records(topics.heartbeats())) {
      if (workerId.equals(r.key())) {
        WorkerHeartbeat hb = codec.decode(r.value(), MessageType.WORKER_HEARTBEAT).payload();
        return java.util.Optional.of(hb.incarnation());
      }
    }
    return java.util.Optional.empty();
  }
}
