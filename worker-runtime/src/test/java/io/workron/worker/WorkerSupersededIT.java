package io.workron.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.workron.schemas.Ids;
import io.workron.schemas.JobDispatch;
import io.workron.schemas.JobResult;
import io.workron.schemas.MessageType;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import io.workron.schemas.WorkerControl;
import io.workron.schemas.WorkerHeartbeat;
import io.workron.testsupport.KafkaFixture;
import io.workron.testsupport.TestInfrastructure;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * A worker told that a newer incarnation of its id took over stops taking work, stops what it runs,
 * stops heartbeating and reports itself not ready.
 */
class WorkerSupersededIT {

  private static final Duration CEILING = Duration.ofSeconds(60);
  private static final WireCodec codec = new WireCodec();
  private static final Clock clock = Clock.systemUTC();

  private static Topics topics;
  private static String workerId;
  private static ConfigurableApplicationContext worker;
  private static TopicRecorder recorder;
  private static KafkaFixture kafka;

  @BeforeAll
  static void start() throws Exception {
    TestInfrastructure infra = TestInfrastructure.get();
    String prefix = infra.newTopicPrefix();
    topics = new Topics(prefix);
    workerId = "twice-" + UUID.randomUUID().toString().substring(0, 8);
    worker =
        WorkerApplication.builder()
            .properties(
                "spring.kafka.bootstrap-servers=" + infra.kafkaBootstrapServers(),
                "workron.topic-prefix=" + prefix,
                "workron.worker.id=" + workerId,
                "workron.worker.heartbeat-interval=200ms",
                "workron.worker.stop-grace=1s",
                "workron.worker.shutdown-deadline=1s",
                "workron.worker.state-dir=" + Files.createTempDirectory("workron-worker-state"),
                "server.port=0")
            .run();
    recorder =
        new TopicRecorder(
            infra.kafkaBootstrapServers(), List.of(topics.heartbeats(), topics.results()));
    kafka = new KafkaFixture(infra.kafkaBootstrapServers());
  }

  @AfterAll
  static void stop() throws InterruptedException {
    if (worker != null) {
      worker.close();
    }
    if (recorder != null) {
      recorder.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void stopsTakingWorkAndStopsItsCommandsWhenANewerIncarnationTookOverItsId() throws Exception {
    String incarnation = worker.getBean(WorkerIdentity.class).incarnation();
    String running = Ids.newJobId(clock);
    dispatch(new JobDispatch(running, 1, workerId, incarnation, "sleep 60", null, null));
    await()
        .atMost(CEILING)
        .until(() -> lastHeartbeat().running().stream().anyMatch(a -> a.jobId().equals(running)));

    send(
        MessageType.WORKER_CONTROL,
        new WorkerControl(
            workerId, incarnation, WorkerControl.Action.SUPERSEDED, "incarnation inc-9 took over"));

    JobResult stopped = await().atMost(CEILING).until(() -> result(running), r -> r != null);
    assertThat(stopped.outcome()).isEqualTo(JobResult.Outcome.INTERRUPTED);
    await().atMost(CEILING).until(() -> readiness() == 503);

    // nothing dispatched to it runs any more, and it has gone quiet
    int beats = heartbeats().size();
    String later = Ids.newJobId(clock);
    dispatch(new JobDispatch(later, 1, workerId, incarnation, "echo late", null, null));
    String marker = Ids.newJobId(clock);
    dispatch(new JobDispatch(marker, 1, workerId, incarnation, "echo marker", null, null));
    await()
        .during(Duration.ofSeconds(2))
        .atMost(Duration.ofSeconds(5))
        .until(() -> result(later) == null && result(marker) == null);
    assertThat(heartbeats().size()).isLessThanOrEqualTo(beats + 1);
    assertThat(worker.getBean(WorkerLifecycle.class).isSuperseded()).isTrue();
  }

  private static void dispatch(JobDispatch d) {
    send(MessageType.JOB_DISPATCH, d);
  }

  private static <P> void send(MessageType<P> type, P payload) {
    kafka.send(
        topics.dispatch(workerId),
        workerId,
        codec.encode(WireCodec.envelope(type, "m-" + UUID.randomUUID(), Instant.now(), payload)));
  }

  private static List<WorkerHeartbeat> heartbeats() {
    return recorder.records(topics.heartbeats()).stream()
        .filter(r -> workerId.equals(r.key()))
        .map(r -> decode(r, MessageType.WORKER_HEARTBEAT))
        .toList();
  }

  private static WorkerHeartbeat lastHeartbeat() {
    List<WorkerHeartbeat> all = heartbeats();
    return all.isEmpty()
        ? new WorkerHeartbeat(workerId, "", 1, null, List.of(), null, List.of(), null)
        : all.get(all.size() - 1);
  }

  private static JobResult result(String jobId) {
    return recorder.records(topics.results()).stream()
        .filter(r -> jobId.equals(r.key()))
        // the attempt's output messages share the topic
        .filter(
            r ->
                new String(r.value(), java.nio.charset.StandardCharsets.UTF_8)
                    .contains("job.result.v1"))
        .map(r -> decode(r, MessageType.JOB_RESULT))
        .findFirst()
        .orElse(null);
  }

  private static <P> P decode(ConsumerRecord<String, byte[]> r, MessageType<P> type) {
    try {
      return codec.decode(r.value(), type).payload();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static int readiness() {
    try {
      int port = Integer.parseInt(worker.getEnvironment().getProperty("local.server.port"));
      return HttpClient.newHttpClient()
          .send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + port + "/actuator/health/readiness"))
                  .build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (Exception e) {
      return -1;
    }
  }
}
