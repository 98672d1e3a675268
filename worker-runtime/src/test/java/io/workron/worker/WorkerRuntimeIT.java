package io.workron.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.workron.schemas.Envelope;
import io.workron.schemas.Ids;
import io.workron.schemas.JobDispatch;
import io.workron.schemas.JobOutput;
import io.workron.schemas.JobResult;
import io.workron.schemas.JobStop;
import io.workron.schemas.MessageType;
import io.workron.schemas.StopCause;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import io.workron.schemas.WorkerHeartbeat;
import io.workron.schemas.WorkerHeartbeat.RunningAttempt;
import io.workron.testsupport.TestInfrastructure;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * One real worker against a real broker, driven only through its topics, as the scheduler would.
 * The class shares one worker; the last test shuts it down.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WorkerRuntimeIT {

  private static final Duration CEILING = Duration.ofSeconds(60);
  private static final WireCodec codec = new WireCodec();
  private static final Clock clock = Clock.systemUTC();

  private static String workerId;
  private static Topics topics;
  private static ConfigurableApplicationContext worker;
  private static TopicRecorder recorder;
  private static KafkaProducer<String, byte[]> producer;
  private static String incarnation;

  @BeforeAll
  static void startWorker() {
    TestInfrastructure infra = TestInfrastructure.get();
    String prefix = infra.newTopicPrefix();
    topics = new Topics(prefix);
    workerId = "it-" + UUID.randomUUID().toString().substring(0, 8);
    worker =
        WorkerApplication.builder()
            .properties(
                "spring.kafka.bootstrap-servers=" + infra.kafkaBootstrapServers(),
                "workron.topic-prefix=" + prefix,
                "workron.worker.id=" + workerId,
                "workron.worker.slots=2",
                "workron.worker.shutdown-deadline=1s",
                "workron.worker.stop-grace=2s",
                "workron.worker.output-interval=200ms",
                "workron.worker.state-dir=" + stateDir(),
                "server.port=0")
            .run();
    String dispatchTopic = topics.dispatch(workerId);
    recorder =
        new TopicRecorder(
            infra.kafkaBootstrapServers(),
            List.of(topics.heartbeats(), topics.results(), Topics.deadLetter(dispatchTopic)));
    producer =
        new KafkaProducer<>(
            Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                infra.kafkaBootstrapServers(),
                ProducerConfig.ACKS_CONFIG,
                "all"),
            new StringSerializer(),
            new ByteArraySerializer());
  }

  private static java.nio.file.Path stateDir() {
    try {
      return java.nio.file.Files.createTempDirectory("workron-worker-state");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @AfterAll
  static void stopEverything() throws InterruptedException {
    if (worker != null) {
      worker.close();
    }
    if (producer != null) {
      producer.close(Duration.ofSeconds(5));
    }
    if (recorder != null) {
      recorder.close();
    }
  }

  @Test
  @Order(1)
  void registersWithAHeartbeatListingItsCapacityAndNoJobs() {
    WorkerHeartbeat registration =
        await()
            .atMost(CEILING)
            .until(() -> heartbeats().stream().findFirst(), Optional::isPresent)
            .orElseThrow();

    assertThat(registration.workerId()).isEqualTo(workerId);
    assertThat(registration.slots()).isEqualTo(2);
    assertThat(registration.running()).isEmpty();
    assertThat(registration.incarnation()).isNotBlank();
    incarnation = registration.incarnation();
  }

  @Test
  @Order(2)
  void runsADispatchedCommandAndReportsItsExitCodeAndOutput() throws Exception {
    String jobId = Ids.newJobId(clock);
    dispatch(
        new JobDispatch(
            jobId,
            1,
            workerId,
            incarnation(),
            "echo \"hello $WORKRON_JOB_ID $GREETING\"; exit 3",
            Map.of("GREETING", "from-env"),
            null),
        "req-42");

    ConsumerRecord<String, byte[]> record = awaitResultRecord(jobId);
    JobResult result = decodeResult(record);

    assertThat(result.outcome()).isEqualTo(JobResult.Outcome.FAILED);
    assertThat(result.exitCode()).isEqualTo(3);
    assertThat(result.reason()).isEqualTo("exit code 3");
    assertThat(result.outputTail()).isEqualTo("hello " + jobId + " from-env\n");
    assertThat(result.workerId()).isEqualTo(workerId);
    assertThat(result.incarnation()).isEqualTo(incarnation());
    assertThat(result.durationMs()).isNotNegative();
    assertThat(record.key()).isEqualTo(jobId);
    // the process start was timed, and the slots are on the scrape
    MeterRegistry meters = worker.getBean(MeterRegistry.class);
    assertThat(meters.find("workron.worker.process.spawn").timer().count()).isPositive();
    assertThat(meters.find("workron.worker.slots").gauge().value())
        .isEqualTo(worker.getBean(io.workron.worker.WorkerProperties.class).slots());
    assertThat(meters.find("workron.worker.slots.busy").gauge()).isNotNull();
    assertThat(header(record, Topics.REQUEST_ID_HEADER)).isEqualTo("req-42");
  }

  @Test
  @Order(3)
  void ignoresADispatchMeantForAnotherIncarnationAndRunsTheNextOne() throws Exception {
    String jobId = Ids.newJobId(clock);
    dispatch(new JobDispatch(jobId, 1, workerId, "previous-life", "echo stale", null, null), null);
    dispatch(new JobDispatch(jobId, 2, workerId, incarnation(), "echo fresh", null, null), null);

    awaitResultRecord(jobId);

    List<JobResult> results = resultsFor(jobId);
    assertThat(results).extracting(JobResult::attempt).containsExactly(2);
    assertThat(results.get(0).outputTail()).isEqualTo("fresh\n");
    assertThat(counter("workron.worker.dispatches.ignored", "reason", "other_incarnation"))
        .isEqualTo(1.0);
  }

  @Test
  @Order(4)
  void deadLettersAMalformedDispatchAndKeepsRunningTheNextOnes() throws Exception {
    String dispatchTopic = topics.dispatch(workerId);
    byte[] garbage = "{not json".getBytes(StandardCharsets.UTF_8);
    producer.send(new ProducerRecord<>(dispatchTopic, "garbage", garbage)).get();
    String jobId = Ids.newJobId(clock);
    dispatch(new JobDispatch(jobId, 1, workerId, incarnation(), "echo alive", null, null), null);

    JobResult result = decodeResult(awaitResultRecord(jobId));
    assertThat(result.outcome()).isEqualTo(JobResult.Outcome.SUCCEEDED);
    assertThat(result.exitCode()).isZero();
    assertThat(result.outputTail()).isEqualTo("alive\n");

    ConsumerRecord<String, byte[]> dead =
        await()
            .atMost(CEILING)
            .until(
                () -> recorder.records(Topics.deadLetter(dispatchTopic)).stream().findFirst(),
                Optional::isPresent)
            .orElseThrow();
    assertThat(dead.value()).isEqualTo(garbage);
    assertThat(header(dead, Topics.DLQ_REASON_HEADER)).isEqualTo("MALFORMED_JSON");
    assertThat(header(dead, Topics.DLQ_ERROR_HEADER)).contains("not valid JSON");
    assertThat(counter("workron.dead.letters", "topic", dispatchTopic)).isEqualTo(1.0);
  }

  @Test
  @Order(5)
  void deadLettersADispatchTooLargeToSendBackAsABoundedCopyAndKeepsRunning() throws Exception {
    String dispatchTopic = topics.dispatch(workerId);
    byte[] huge = io.workron.testsupport.KafkaFixture.oversizedDocument(2 * 1024 * 1024);
    try (io.workron.testsupport.KafkaFixture kafka =
        new io.workron.testsupport.KafkaFixture(TestInfrastructure.get().kafkaBootstrapServers())) {
      kafka.sendCompressed(dispatchTopic, "huge", huge);
    }
    String jobId = Ids.newJobId(clock);
    dispatch(new JobDispatch(jobId, 1, workerId, incarnation(), "echo still", null, null), null);

    assertThat(decodeResult(awaitResultRecord(jobId)).outputTail()).isEqualTo("still\n");
    ConsumerRecord<String, byte[]> dead =
        await()
            .atMost(CEILING)
            .until(
                () ->
                    recorder.records(Topics.deadLetter(dispatchTopic)).stream()
                        .filter(r -> "huge".equals(r.key()))
                        .findFirst(),
                Optional::isPresent)
            .orElseThrow();
    assertThat(header(dead, Topics.DLQ_REASON_HEADER)).isEqualTo("TOO_LARGE");
    assertThat(header(dead, "workron-dlq-truncated")).isEqualTo("true");
    assertThat(header(dead, "workron-dlq-original-size")).isEqualTo(Integer.toString(huge.length));
    assertThat(dead.value()).hasSize(64 * 1024);
  }

  @Test
  @Order(6)
  void stopsATakenBackAttemptAndNeverRunsItAgainBesideOrAfterTheNextOne() throws Exception {
    String jobId = Ids.newJobId(clock);
    java.nio.file.Path sideEffects = java.nio.file.Files.createTempFile("side-effects", ".log");
    // a marker no other process on the machine has, to see that the child is gone too
    String child = "sleep 617." + (System.nanoTime() % 1000);
    String command =
        "echo \"start $WORKRON_ATTEMPT\" >> "
            + sideEffects
            + "; "
            + child
            + "; echo end >> "
            + sideEffects;
    dispatch(new JobDispatch(jobId, 1, workerId, incarnation(), command, null, null), null);
    await()
        .atMost(CEILING)
        .until(
            () ->
                heartbeats().stream()
                    .anyMatch(h -> h.running().contains(new RunningAttempt(jobId, 1))));
    await().atMost(CEILING).until(() -> running(child));

    stop(new JobStop(jobId, 1, workerId, incarnation(), StopCause.TAKEN_BACK, "not acknowledged"));

    JobResult stopped = decodeResult(awaitResultRecord(jobId));
    assertThat(stopped.attempt()).isEqualTo(1);
    assertThat(stopped.outcome()).isEqualTo(JobResult.Outcome.INTERRUPTED);
    assertThat(stopped.stopCause()).isEqualTo(StopCause.TAKEN_BACK);
    assertThat(stopped.reason()).isEqualTo("stopped: taken_back");
    // the whole process group is signalled: the child is gone within stop-grace (2 s) too
    await().atMost(Duration.ofSeconds(2)).until(() -> !running(child));

    dispatch(
        new JobDispatch(
            jobId,
            2,
            workerId,
            incarnation(),
            "echo \"start $WORKRON_ATTEMPT\" >> " + sideEffects,
            null,
            null),
        null);
    // attempt 1 again, as a redelivery or a stale replica would send it: never run
    dispatch(new JobDispatch(jobId, 1, workerId, incarnation(), command, null, null), null);
    String marker = Ids.newJobId(clock);
    dispatch(new JobDispatch(marker, 1, workerId, incarnation(), "true", null, null), null);
    awaitResultRecord(marker);
    await().atMost(CEILING).until(() -> resultsFor(jobId).size() >= 2);

    List<JobResult> results = resultsFor(jobId);
    assertThat(results).extracting(JobResult::attempt).containsExactly(1, 2);
    assertThat(results.get(1).outcome()).isEqualTo(JobResult.Outcome.SUCCEEDED);
    assertThat(results.get(1).startedAt()).isAfterOrEqualTo(results.get(0).finishedAt());
    assertThat(java.nio.file.Files.readAllLines(sideEffects)).containsExactly("start 1", "start 2");
    assertThat(counter("workron.worker.dispatches.ignored", "reason", "superseded_attempt"))
        .isEqualTo(1.0);
  }

  @Test
  @Order(7)
  void anAttemptStoppedOnOrderIsInterruptedEvenWhenItExitsZeroOnSigterm() throws Exception {
    String jobId = Ids.newJobId(clock);
    String child = "sleep 619." + (System.nanoTime() % 1000);
    // saves its work and exits 0 when told to stop, as stop-grace invites a command to do
    String command = "trap 'echo saved; exit 0' TERM; " + child + " & wait";
    dispatch(new JobDispatch(jobId, 1, workerId, incarnation(), command, null, null), null);
    await().atMost(CEILING).until(() -> running(child));

    stop(new JobStop(jobId, 1, workerId, incarnation(), StopCause.TAKEN_BACK, "worker lost"));

    JobResult stopped = decodeResult(awaitResultRecord(jobId));
    assertThat(stopped.exitCode()).isZero();
    assertThat(stopped.outputTail()).isEqualTo("saved\n");
    // not "succeeded": the attempt was taken back, and a success would mark the job done
    assertThat(stopped.outcome()).isEqualTo(JobResult.Outcome.INTERRUPTED);
    assertThat(stopped.stopCause()).isEqualTo(StopCause.TAKEN_BACK);
  }

  @Test
  @Order(8)
  void anAttemptPastItsTimeoutIsKilledWithWhatItStartedAndReportedFailedAsTimedOut()
      throws Exception {
    String jobId = Ids.newJobId(clock);
    String child = "sleep 617." + (System.nanoTime() % 1000);
    // ignores SIGTERM, and so does the child it starts: only SIGKILL after stop-grace ends them
    String command = "trap '' TERM; " + child + " & wait";
    dispatch(new JobDispatch(jobId, 1, workerId, incarnation(), command, null, null, 1), null);

    JobResult result = decodeResult(awaitResultRecord(jobId));

    assertThat(result.outcome()).isEqualTo(JobResult.Outcome.FAILED);
    assertThat(result.stopCause()).isEqualTo(StopCause.TIMED_OUT);
    assertThat(result.reason()).isEqualTo("timed out after 1 s");
    assertThat(result.durationMs()).isGreaterThanOrEqualTo(1000);
    assertThat(running(child)).isFalse();
  }

  @Test
  @Order(9)
  void sendsTheOutputOfARunningCommandWhileItRuns() throws Exception {
    String jobId = Ids.newJobId(clock);
    String child = "sleep 613." + (System.nanoTime() % 1000);
    dispatch(
        new JobDispatch(jobId, 1, workerId, incarnation(), "echo step-1; " + child, null, null),
        null);

    JobOutput progress =
        await()
            .atMost(CEILING)
            .until(
                () ->
                    recorder.records(topics.results()).stream()
                        .filter(r -> jobId.equals(r.key()))
                        .map(r -> r.value())
                        .filter(
                            v -> new String(v, StandardCharsets.UTF_8).contains("job.output.v1"))
                        .map(v -> decode(v, MessageType.JOB_OUTPUT))
                        .findFirst(),
                Optional::isPresent)
            .orElseThrow();

    assertThat(progress.attempt()).isEqualTo(1);
    assertThat(progress.incarnation()).isEqualTo(incarnation());
    assertThat(progress.outputTail()).isEqualTo("step-1\n");
    assertThat(running(child)).isTrue();
    stop(new JobStop(jobId, 1, workerId, incarnation(), StopCause.CANCELLED, "done looking"));
    await().atMost(CEILING).until(() -> !running(child));
  }

  @Test
  @Order(10)
  void aCommandFindsItsCheckpointInPlaceAndWhatItWritesIsShippedWhileItRunsAndWhenItExits()
      throws Exception {
    String jobId = Ids.newJobId(clock);
    String child = "sleep 611." + (System.nanoTime() % 1000);
    String saved =
        java.util.Base64.getEncoder().encodeToString("step=41".getBytes(StandardCharsets.UTF_8));
    // reads the checkpoint it resumes from, writes the next while running and one more on SIGTERM
    String command =
        "trap 'echo step=43 > \"$WORKRON_CHECKPOINT_FILE\"; exit 0' TERM; "
            + "echo \"file=$(cat \"$WORKRON_CHECKPOINT_FILE\") env=$CHECKPOINT_DATA\"; "
            + "echo step=42 > \"$WORKRON_CHECKPOINT_FILE\"; "
            + child
            + " & wait";
    dispatch(
        new JobDispatch(
            jobId, 2, workerId, incarnation(), command, null, null, null, 3, saved, 1024),
        null);

    io.workron.schemas.JobCheckpoint shipped =
        await()
            .atMost(CEILING)
            .until(
                () ->
                    recorder.records(topics.results()).stream()
                        .filter(r -> jobId.equals(r.key()))
                        .map(r -> r.value())
                        .filter(
                            v ->
                                new String(v, StandardCharsets.UTF_8).contains("job.checkpoint.v1"))
                        .map(v -> decode(v, MessageType.JOB_CHECKPOINT))
                        .findFirst(),
                Optional::isPresent)
            .orElseThrow();
    assertThat(shipped.attempt()).isEqualTo(2);
    assertThat(shipped.epoch()).isEqualTo(3);
    assertThat(
            new String(
                java.util.Base64.getDecoder().decode(shipped.data()), StandardCharsets.UTF_8))
        .isEqualTo("step=42\n");

    stop(new JobStop(jobId, 2, workerId, incarnation(), StopCause.PREEMPTED, "drain round 3", 3));

    JobResult result = decodeResult(awaitResultRecord(jobId));
    assertThat(result.outcome()).isEqualTo(JobResult.Outcome.INTERRUPTED);
    assertThat(result.epoch()).isEqualTo(3);
    assertThat(result.outputTail()).startsWith("file=step=41 env=" + saved + "\n");
    assertThat(
            new String(
                java.util.Base64.getDecoder().decode(result.checkpoint()), StandardCharsets.UTF_8))
        .isEqualTo("step=43\n");
    assertThat(result.checkpointRefused()).isNull();

    // one bigger than the dispatch allows is not shipped, and the result says why
    String big = Ids.newJobId(clock);
    dispatch(
        new JobDispatch(
            big,
            1,
            workerId,
            incarnation(),
            "head -c 2000 /dev/zero > \"$WORKRON_CHECKPOINT_FILE\"",
            null,
            null,
            null,
            0,
            null,
            1024),
        null);
    JobResult refused = decodeResult(awaitResultRecord(big));
    assertThat(refused.checkpoint()).isNull();
    assertThat(refused.checkpointRefused())
        .startsWith("checkpoint of 2000 bytes is larger than the limit of 1024 bytes; not stored");
  }

  @Test
  @Order(11)
  void reportsARunningJobInterruptedAndSignsOffWhenTheWorkerShutsDown() throws Exception {
    String jobId = Ids.newJobId(clock);
    dispatch(new JobDispatch(jobId, 1, workerId, incarnation(), "sleep 60", null, null), null);
    await()
        .atMost(CEILING)
        .until(
            () ->
                heartbeats().stream()
                    .anyMatch(h -> h.running().contains(new RunningAttempt(jobId, 1))));

    long closeStarted = System.nanoTime();
    worker.close();
    Duration closeTook = Duration.ofNanos(System.nanoTime() - closeStarted);

    // deadline 1 s + grace 2 s: the close is bounded by configuration, not by the job
    assertThat(closeTook).isLessThan(Duration.ofSeconds(20));
    JobResult result = decodeResult(awaitResultRecord(jobId));
    assertThat(result.outcome()).isEqualTo(JobResult.Outcome.INTERRUPTED);
    assertThat(result.reason()).isEqualTo("worker shutting down");
    assertThat(Duration.ofMillis(result.durationMs())).isLessThan(Duration.ofSeconds(20));
    await()
        .atMost(CEILING)
        .untilAsserted(
            () -> {
              List<WorkerHeartbeat> beats = heartbeats();
              assertThat(beats.get(beats.size() - 1).running()).isEmpty();
              assertThat(beats).anyMatch(h -> h.running().contains(new RunningAttempt(jobId, 1)));
            });
  }

  private static String incarnation() {
    if (incarnation == null) {
      incarnation =
          await()
              .atMost(CEILING)
              .until(() -> heartbeats().stream().findFirst(), Optional::isPresent)
              .orElseThrow()
              .incarnation();
    }
    return incarnation;
  }

  private static void dispatch(JobDispatch dispatch, String requestId) throws Exception {
    Envelope<JobDispatch> envelope =
        WireCodec.envelope(
            MessageType.JOB_DISPATCH, Ids.newMessageId("dispatch", clock), Instant.now(), dispatch);
    ProducerRecord<String, byte[]> record =
        new ProducerRecord<>(topics.dispatch(workerId), dispatch.jobId(), codec.encode(envelope));
    if (requestId != null) {
      record.headers().add(Topics.REQUEST_ID_HEADER, requestId.getBytes(StandardCharsets.UTF_8));
    }
    producer.send(record).get(30, TimeUnit.SECONDS);
  }

  private static void stop(JobStop stop) throws Exception {
    Envelope<JobStop> envelope =
        WireCodec.envelope(MessageType.JOB_STOP, "stop-" + stop.jobId(), Instant.now(), stop);
    producer
        .send(new ProducerRecord<>(topics.dispatch(workerId), stop.jobId(), codec.encode(envelope)))
        .get(30, TimeUnit.SECONDS);
  }

  /** Whether a process whose command line contains {@code marker} runs on this machine. */
  private static boolean running(String marker) {
    return ProcessHandle.allProcesses()
        .anyMatch(p -> p.info().commandLine().map(c -> c.contains(marker)).orElse(false));
  }

  private static List<WorkerHeartbeat> heartbeats() {
    return recorder.records(topics.heartbeats()).stream()
        .filter(r -> workerId.equals(r.key()))
        .map(r -> decode(r.value(), MessageType.WORKER_HEARTBEAT))
        .toList();
  }

  private static ConsumerRecord<String, byte[]> awaitResultRecord(String jobId) {
    return await()
        .atMost(CEILING)
        .until(
            () ->
                recorder.records(topics.results()).stream()
                    .filter(r -> jobId.equals(r.key()) && isResult(r))
                    .findFirst(),
            Optional::isPresent)
        .orElseThrow();
  }

  /** A result, not one of the attempt's output messages on the same topic. */
  private static boolean isResult(ConsumerRecord<String, byte[]> record) {
    return new String(record.value(), StandardCharsets.UTF_8)
        .contains("\"type\":\"job.result.v1\"");
  }

  private static List<JobResult> resultsFor(String jobId) {
    return recorder.records(topics.results()).stream()
        .filter(r -> jobId.equals(r.key()) && isResult(r))
        .map(WorkerRuntimeIT::decodeResult)
        .toList();
  }

  private static JobResult decodeResult(ConsumerRecord<String, byte[]> record) {
    return decode(record.value(), MessageType.JOB_RESULT);
  }

  private static <P> P decode(byte[] bytes, MessageType<P> type) {
    try {
      return codec.decode(bytes, type).payload();
    } catch (Exception e) {
      throw new AssertionError("the worker wrote an invalid " + type + ": " + e.getMessage(), e);
    }
  }

  private static String header(ConsumerRecord<String, byte[]> record, String name) {
    Header header = record.headers().lastHeader(name);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }

  private static double counter(String name, String tag, String value) {
    return worker.getBean(MeterRegistry.class).find(name).tag(tag, value).counters().stream()
        .mapToDouble(c -> c.count())
        .sum();
  }
}
