package io.workron.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.workron.schemas.JobDispatch;
import io.workron.schemas.JobResult;
import io.workron.schemas.JobStop;
import io.workron.schemas.JobSubmission;
import io.workron.schemas.MessageType;
import io.workron.schemas.Resources;
import io.workron.schemas.StopCause;
import io.workron.schemas.WireCodec;
import io.workron.schemas.WorkerHeartbeat;
import io.workron.schemas.WorkerHeartbeat.RunningAttempt;
import io.workron.testsupport.KafkaFixture.TopicReader;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * Gangs on the real database and broker, the test playing the workers: all-or-nothing admission
 * with the reason a gang waits, coordinated drains that end as soon as the live siblings
 * acknowledge, attempts refunded to siblings, epochs fencing late acknowledgements, rollback of
 * reservations not taken up, and cancellation of a whole gang.
 */
class GangsIT {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static SchedulerUnderTest sut;
  private final ScheduledExecutorService beats = Executors.newScheduledThreadPool(1);
  private final List<FakeWorker> workers = new ArrayList<>();

  @BeforeAll
  static void start() {
    sut =
        new SchedulerUnderTest(
            "--workron.scheduler.reaper-tick=200ms",
            "--workron.scheduler.worker-offline-after=2s",
            "--workron.scheduler.tick-interval=200ms",
            "--workron.scheduler.requeue-delay=200ms",
            "--workron.scheduler.retry-backoff-base=100ms",
            "--workron.scheduler.unschedulable-timeout=6s",
            "--workron.scheduler.gangs.admission-tick=200ms",
            "--workron.scheduler.gangs.ready-timeout=3s",
            "--workron.scheduler.gangs.drain-force-timeout=3s",
            "--workron.scheduler.gangs.min-run-time=1s");
  }

  @BeforeEach
  void finishWhatOtherTestsLeft() throws Exception {
    sut.finishWhatOtherTestsLeft();
  }

  @AfterEach
  void stopBeating() throws Exception {
    for (FakeWorker w : workers) {
      w.close();
    }
    beats.shutdownNow();
    assertThat(beats.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
  }

  @AfterAll
  static void stop() {
    sut.close();
  }

  @Test
  void aGangRunsOnAllItsWorkersAtOnceOrWaitsSayingWhy() throws Exception {
    FakeWorker a = worker("a", 1);
    FakeWorker b = worker("b", 1);
    String gang = submitGang(3, 3, null);

    // only two workers are registered: the gang says why it cannot run (and would fail after
    // unschedulable-timeout if no third came)
    await()
        .atMost(WAIT)
        .until(
            () ->
                waitReason(gang).equals("needs 3 distinct workers; only 2 registered workers do"));
    assertThat(summary(gang).get("status").asString()).isEqualTo("waiting");
    assertThat(summary(gang).has("unschedulable_since")).isTrue();
    JsonNode tasks = sut.get("/internal/gangs/" + gang);
    assertThat(tasks).hasSize(3);
    for (int i = 0; i < 3; i++) {
      assertThat(tasks.get(i).get("id").asString()).isEqualTo(gang + "-" + i);
      assertThat(tasks.get(i).get("gang_index").asInt()).isEqualTo(i);
      assertThat(tasks.get(i).get("status").asString()).isEqualTo("blocked");
      assertThat(tasks.get(i).get("wait_reason").asString()).startsWith("needs 3 distinct workers");
    }
    // nothing went out while only two of three fit
    assertThat(a.dispatches.drain(Duration.ofMillis(500))).isEmpty();

    FakeWorker c = worker("c", 1);
    List<JobDispatch> placed = new ArrayList<>();
    for (FakeWorker w : List.of(a, b, c)) {
      placed.add(w.next(1));
    }
    Set<String> indexes = new HashSet<>();
    for (JobDispatch d : placed) {
      assertThat(d.env()).containsEntry("GANG_ID", gang).containsEntry("GANG_SIZE", "3");
      assertThat(d.jobId()).isEqualTo(gang + "-" + d.env().get("GANG_INDEX"));
      assertThat(d.env().get("RANK")).isEqualTo(d.env().get("GANG_INDEX"));
      assertThat(d.env()).containsEntry("WORLD_SIZE", "3").containsEntry("MASTER_PORT", "29500");
      assertThat(d.env().get("GANG_PEERS").split(",")).hasSize(3);
      assertThat(d.attempt()).isEqualTo(1);
      indexes.add(d.env().get("GANG_INDEX"));
    }
    assertThat(indexes).containsExactlyInAnyOrder("0", "1", "2");
    assertThat(statuses(gang)).containsOnly("reserved");

    for (int i = 0; i < 3; i++) {
      List.of(a, b, c).get(i).start(placed.get(i));
    }
    await().atMost(WAIT).until(() -> statuses(gang).stream().allMatch("running"::equals));
    JsonNode s = summary(gang);
    assertThat(s.get("status").asString()).isEqualTo("running");
    assertThat(s.has("wait_reason")).isFalse();
    assertThat(s.get("admissions").asInt()).isEqualTo(1);

    for (int i = 0; i < 3; i++) {
      List.of(a, b, c).get(i).finish(placed.get(i), JobResult.Outcome.SUCCEEDED, 0, null);
    }
    await().atMost(WAIT).until(() -> "done".equals(summary(gang).get("status").asString()));
  }

  @Test
  void aGangNoRegisteredFleetCouldHoldSaysSoAndFailsAfterTheUnschedulableTimeout()
      throws Exception {
    worker("a", 4, new Resources(8192, 0));
    worker("b", 4, new Resources(4096, 0));
    String gang = submitGang(2, 1, new Resources(8000, 0));

    await()
        .atMost(WAIT)
        .until(
            () ->
                waitReason(gang)
                    .equals(
                        "needs 2 distinct workers offering vram_mb 8000; only 1 registered worker does"));
    await().atMost(WAIT).until(() -> statuses(gang).stream().allMatch("failed"::equals));
    assertThat(sut.job(gang + "-0").get("failure_reason").asString())
        .startsWith("unschedulable for PT6S: needs 2 distinct workers");
    assertThat(summary(gang).get("status").asString()).isEqualTo("failed");
  }

  @Test
  void aFailedTaskDrainsItsSiblingsAsSoonAsTheyAcknowledgeAndTheGangRunsAgain() throws Exception {
    FakeWorker a = worker("a", 1);
    FakeWorker b = worker("b", 1);
    String gang = submitGang(2, 3, null);
    JobDispatch[] round1 = runningGang(gang, a, b);
    JobDispatch t0 = round1[0];
    JobDispatch t1 = round1[1];
    FakeWorker w0 = on(t0, a, b);
    FakeWorker w1 = on(t1, a, b);
    // task 0 ships a checkpoint while it runs
    w0.checkpoint(t0, 0, "step=1");
    await().atMost(WAIT).until(() -> "step=1".equals(checkpoint(t0.jobId())));

    w1.finish(t1, JobResult.Outcome.FAILED, 1, null);

    // the sibling is ordered stopped with the round's epoch
    JobStop stop = w0.stopFor(t0);
    assertThat(stop.attempt()).isEqualTo(t0.attempt());
    assertThat(stop.cause()).isEqualTo(StopCause.PREEMPTED);
    assertThat(stop.epoch()).isEqualTo(1);
    await().atMost(WAIT).until(() -> "preempting".equals(sut.status(t0.jobId())));
    assertThat(sut.status(t1.jobId())).isEqualTo("preempted");
    assertThat(summary(gang).get("status").asString()).isEqualTo("draining");

    Instant acked = Instant.now();
    // the acknowledgement carries what task 0 saved on SIGTERM
    w0.finish(t0, JobResult.Outcome.INTERRUPTED, 143, 1, "step=2");
    // re-admitted on fresh dispatches, each task at its next attempt, in epoch 1
    List<JobDispatch> again = List.of(a.next(2), b.next(2));
    assertThat(again).extracting(JobDispatch::attempt).containsOnly(2);
    assertThat(again).extracting(d -> d.env().get("GANG_EPOCH")).containsOnly("1");
    assertThat(again).extracting(JobDispatch::epoch).containsOnly(1);
    // task 0 resumes from its checkpoint; task 1 never wrote one
    JobDispatch t0again =
        again.stream().filter(d -> d.jobId().equals(t0.jobId())).findFirst().orElseThrow();
    assertThat(new String(java.util.Base64.getDecoder().decode(t0again.checkpoint())))
        .isEqualTo("step=2");
    assertThat(sut.statusCode("/internal/jobs/" + t1.jobId() + "/checkpoint")).isEqualTo(204);
    // a checkpoint of the round before, arriving late, changes nothing
    double staleBefore = sut.staleMessages("checkpoint");
    w0.checkpoint(t0, 0, "stale");
    await().atMost(WAIT).until(() -> sut.staleMessages("checkpoint") > staleBefore);
    assertThat(checkpoint(t0.jobId())).isEqualTo("step=2");

    JsonNode s = summary(gang);
    JsonNode drain = s.get("drains").get(0);
    assertThat(drain.get("epoch").asInt()).isEqualTo(1);
    assertThat(drain.get("trigger_job").asString()).isEqualTo(t1.jobId());
    assertThat(drain.get("reason").asString()).isEqualTo("exit code 1");
    assertThat(drain.get("ordered_stopped").asInt()).isEqualTo(1);
    assertThat(drain.get("acks").asInt()).isEqualTo(1);
    assertThat(drain.get("forced").asInt()).isEqualTo(0);
    assertThat(drain.get("outcome").asString()).isEqualTo("blocked");
    // the round ended on the acknowledgement, not on a timeout
    assertThat(Instant.parse(drain.get("ended_at").asString()))
        .isBefore(acked.plus(Duration.ofSeconds(2)));
    // the sibling's attempt is refunded, the trigger's counts
    assertThat(refunded(t0.jobId())).isEqualTo(1);
    assertThat(refunded(t1.jobId())).isEqualTo(0);
    // the seed's metrics, and the gang's own lifecycle events for other services
    MeterRegistry meters = sut.app.getBean(MeterRegistry.class);
    assertThat(meters.find("workron_gangs_preempted_total").counter().count()).isPositive();
    assertThat(
            meters
                .find("workron_gang_preemptions_completed_total")
                .tag("outcome", "blocked")
                .counter()
                .count())
        .isPositive();
    assertThat(meters.find("workron_gang_preemption_drain_seconds").timer().count()).isPositive();
    try (TopicReader events = sut.kafka.read(sut.topics.jobEvents(), r -> gang.equals(r.key()))) {
      List<String> kinds =
          events.until(r -> r.size() >= 4, WAIT).stream()
              .map(r -> gangEvent(r.value()))
              .map(e -> e.event().name() + "@" + e.epoch())
              .toList();
      assertThat(kinds)
          .containsSubsequence("ADMITTED@0", "DRAIN_STARTED@1", "DRAIN_ENDED@1", "ADMITTED@1");
    }
  }

  @Test
  void aHigherPriorityGangPreemptsAPreemptibleOneWhichRunsAgainAfterwardsWithoutUsingARetry()
      throws Exception {
    FakeWorker a = worker("a", 1);
    FakeWorker b = worker("b", 1);
    String low = submitGang(2, 1, null, 0, true);
    JobDispatch[] victims = runningGang(low, a, b);

    String high = submitGang(2, 1, null, 5, false);

    for (JobDispatch d : victims) {
      FakeWorker w = on(d, a, b);
      JobStop stop = w.stopFor(d);
      assertThat(stop.cause()).isEqualTo(StopCause.PREEMPTED);
      assertThat(stop.epoch()).isEqualTo(1);
      w.finish(d, JobResult.Outcome.INTERRUPTED, 143, 1, "step=7");
    }
    JobDispatch[] urgent = runningGang(high, a, b);
    JsonNode drain = summary(low).get("drains").get(0);
    assertThat(drain.get("reason").asString()).isEqualTo("preempted by " + high + " (priority 5)");
    assertThat(drain.has("trigger_job")).isFalse();
    assertThat(drain.get("acks").asInt()).isEqualTo(2);
    assertThat(statuses(low)).containsOnly("blocked");

    for (JobDispatch d : urgent) {
      on(d, a, b).finish(d, JobResult.Outcome.SUCCEEDED, 0, null);
    }
    // max_retries 1, yet the preempted gang runs again: its attempts were refunded
    JobDispatch[] again = runningGang(low, a, b);
    for (JobDispatch d : again) {
      assertThat(d.attempt()).isEqualTo(2);
      assertThat(new String(java.util.Base64.getDecoder().decode(d.checkpoint())))
          .isEqualTo("step=7");
      assertThat(refunded(d.jobId())).isEqualTo(1);
    }
  }

  @Test
  void aTaskThatAlwaysFailsMakesTheGangFailedAfterItsMaxRetriesRounds() throws Exception {
    FakeWorker a = worker("a", 1);
    FakeWorker b = worker("b", 1);
    String gang = submitGang(2, 2, null);
    JobDispatch earlier = null;
    for (int round = 1; round <= 2; round++) {
      JobDispatch[] ds = runningGang(gang, a, b);
      JobDispatch bad = ds[1];
      JobDispatch good = ds[0];
      on(bad, a, b).finish(bad, JobResult.Outcome.FAILED, 3, null);
      FakeWorker goodWorker = on(good, a, b);
      JobStop stop = goodWorker.stopFor(good);
      assertThat(stop.epoch()).isEqualTo(round);
      await().atMost(WAIT).until(() -> "preempting".equals(sut.status(good.jobId())));
      if (earlier != null) {
        // the first round's acknowledgement, delivered late, changes nothing
        double staleBefore = sut.staleMessages("result");
        on(earlier, a, b).send(earlier, JobResult.Outcome.INTERRUPTED, 143, StopCause.PREEMPTED, 1);
        await().atMost(WAIT).until(() -> sut.staleMessages("result") > staleBefore);
        assertThat(sut.status(good.jobId())).isEqualTo("preempting");
      }
      earlier = good;
      goodWorker.finish(good, JobResult.Outcome.INTERRUPTED, 143, round);
      if (round == 1) {
        await().atMost(WAIT).until(() -> statuses(gang).stream().allMatch("reserved"::equals));
      }
    }
    await().atMost(WAIT).until(() -> statuses(gang).stream().allMatch("failed"::equals));
    JsonNode bad = sut.job(gang + "-1");
    assertThat(bad.get("failure_reason").asString())
        .isEqualTo("gang failed: task " + gang + "-1 used its last attempt (2 of 2): exit code 3");
    // two rounds, the good task's attempts both refunded
    assertThat(counted(gang + "-0")).isEqualTo(0);
    assertThat(sut.job(gang + "-0").get("attempts").asInt()).isEqualTo(2);
    JsonNode drains = summary(gang).get("drains");
    assertThat(drains).hasSize(2);
    assertThat(drains.get(1).get("outcome").asString()).isEqualTo("failed");
  }

  @Test
  void aTaskWhoseWorkerIsLostCountsAsDrainedAtOnceAndTheOthersAreStopped() throws Exception {
    FakeWorker a = worker("a", 1);
    FakeWorker b = worker("b", 1);
    FakeWorker c = worker("c", 1);
    String gang = submitGang(2, 3, null);
    JobDispatch[] ds = runningGang(gang, a, b, c);
    FakeWorker victim = on(ds[1], a, b, c);
    FakeWorker survivor = on(ds[0], a, b, c);

    victim.die();

    JobStop stop = survivor.stopFor(ds[0]);
    assertThat(stop.epoch()).isEqualTo(1);
    assertThat(sut.status(ds[1].jobId())).isEqualTo("preempted");
    survivor.finish(ds[0], JobResult.Outcome.INTERRUPTED, 143, 1);
    // back on the two live workers
    await().atMost(WAIT).until(() -> statuses(gang).stream().allMatch(st -> st.equals("reserved")));
    JsonNode drain = summary(gang).get("drains").get(0);
    assertThat(drain.get("trigger_job").asString()).isEqualTo(ds[1].jobId());
    assertThat(drain.get("reason").asString()).isEqualTo("worker lost");
    assertThat(drain.get("acks").asInt()).isEqualTo(1);
    for (JsonNode t : sut.get("/internal/gangs/" + gang)) {
      assertThat(t.get("worker_id").asString()).isNotEqualTo(victim.id);
    }
  }

  @Test
  void aReservationNotTakenUpInTimeIsRolledBackWithoutCountingAnAttempt() throws Exception {
    FakeWorker a = worker("a", 1);
    FakeWorker b = worker("b", 1);
    String gang = submitGang(2, 1, null);
    JobDispatch da = a.next(1);
    b.next(1); // b never lists its task
    a.start(da);
    await().atMost(WAIT).until(() -> "running".equals(sut.status(da.jobId())));

    // a's running task is ordered stopped; b's, never started, is drained at once
    JobStop stop = a.stopFor(da);
    assertThat(stop.cause()).isEqualTo(StopCause.PREEMPTED);
    a.finish(da, JobResult.Outcome.INTERRUPTED, 143, 1);
    JsonNode drain =
        await()
            .atMost(WAIT)
            .until(() -> summary(gang).get("drains").get(0), d -> d.has("ended_at"));
    assertThat(drain.get("reason").asString()).startsWith("reservation not taken up within PT3S");
    assertThat(drain.has("trigger_job")).isFalse();
    assertThat(drain.get("outcome").asString()).isEqualTo("blocked");
    // max_retries 1, and the gang may still run: no attempt counted
    assertThat(refunded(gang + "-0")).isEqualTo(1);
    assertThat(refunded(gang + "-1")).isEqualTo(1);
    assertThat(a.next(2).attempt()).isEqualTo(2);
  }

  @Test
  void aGangWhoseTaskIdIsTakenByAnotherJobIsCancelledSayingWhyInsteadOfWaitingForever()
      throws Exception {
    String id = "gang-it-" + UUID.randomUUID().toString().substring(0, 8);
    sut.kafka.send(sut.topics.submissions(), id + "-1", sut.submission(id + "-1", "true", 1, null));
    await().atMost(WAIT).until(() -> sut.job(id + "-1") != null);

    JobSubmission gang =
        new JobSubmission(
            id, "train.sh", null, null, null, null, 1, null, null, null, null, null, 2, null);
    sut.kafka.send(
        sut.topics.submissions(),
        id,
        sut.codec.encode(
            WireCodec.envelope(MessageType.JOB_SUBMITTED, "m-" + id, Instant.now(), gang)));

    await().atMost(WAIT).until(() -> "cancelled".equals(sut.status(id + "-0")));
    assertThat(sut.job(id + "-0").get("failure_reason").asString())
        .contains("task ids (<gang id>-<index>) were already used by other jobs");
    assertThat(summary(id).get("status").asString()).isEqualTo("cancelled");
    // the job that had the id is left alone
    assertThat(sut.job(id + "-1").has("gang_id")).isFalse();
  }

  @Test
  void cancellingAGangOrAnyOfItsTasksStopsThemAll() throws Exception {
    FakeWorker a = worker("a", 1);
    FakeWorker b = worker("b", 1);
    String gang = submitGang(2, 3, null);
    JobDispatch[] ds = runningGang(gang, a, b);

    var answer = sut.post("/internal/jobs/" + ds[1].jobId() + "/cancel", "{}");
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
    for (JobDispatch d : ds) {
      FakeWorker w = on(d, a, b);
      JobStop stop = w.stopFor(d);
      assertThat(stop.cause()).isEqualTo(StopCause.CANCELLED);
      w.finish(d, JobResult.Outcome.INTERRUPTED, 143, null);
    }
    await().atMost(WAIT).until(() -> statuses(gang).stream().allMatch("cancelled"::equals));
    assertThat(summary(gang).get("status").asString()).isEqualTo("cancelled");
    assertThat(summary(gang).get("drains")).isEmpty();

    // a waiting gang is cancelled at once, by its own id
    String waiting = submitGang(5, 1, null);
    await()
        .atMost(WAIT)
        .until(() -> sut.count("select count(*) from gangs where id = '" + waiting + "'") == 1);
    var cancelled =
        sut.post("/internal/gangs/" + waiting + "/cancel", "{\"reason\":\"not needed\"}");
    assertThat(cancelled.statusCode()).as(cancelled.body()).isEqualTo(200);
    assertThat(statuses(waiting)).containsOnly("cancelled");
    assertThat(sut.job(waiting + "-4").get("failure_reason").asString()).isEqualTo("not needed");
    assertThat(sut.post("/internal/gangs/" + waiting + "/cancel", "{}").statusCode())
        .isEqualTo(200);
    assertThat(sut.post("/internal/gangs/gang-nope/cancel", "{}").statusCode()).isEqualTo(404);
    assertThat(sut.statusCode("/internal/gangs/gang-nope")).isEqualTo(404);
  }

  @Test
  void gangsAndOrdinaryJobsPlacedByTwoReplicasNeverOverBookAWorker() throws Exception {
    try (SchedulerUnderTest second =
        new SchedulerUnderTest(
            sut,
            "--workron.scheduler.reaper-tick=200ms",
            "--workron.scheduler.worker-offline-after=2s",
            "--workron.scheduler.tick-interval=200ms",
            "--workron.scheduler.gangs.admission-tick=200ms")) {
      List<FakeWorker> fleet = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        fleet.add(worker("w" + i, 2));
      }
      // more than the fleet's 6 slots, gangs and jobs mixed, none of them ever ends
      List<String> gangs = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        gangs.add(submitGang(3, 1, null));
        for (int j = 0; j < 5; j++) {
          sut.submit("sleep 600", 1);
        }
      }
      // every dispatch received is started at once, so capacity is held only by running work
      await()
          .atMost(WAIT)
          .until(
              () -> {
                int total = 0;
                for (FakeWorker w : fleet) {
                  List<JobDispatch> got = w.received();
                  for (JobDispatch d : got) {
                    if (!w.running.contains(new RunningAttempt(d.jobId(), d.attempt()))) {
                      w.start(d);
                    }
                  }
                  total += got.size();
                }
                return total >= 6;
              });
      // one more round of each loop on each replica, now: none places anything
      for (SchedulerUnderTest replica : List.of(sut, second)) {
        assertThat(
                replica
                    .app
                    .getBean(io.workron.scheduler.dispatch.DispatchLoop.class)
                    .dispatchOnce())
            .isZero();
        assertThat(
                replica
                    .app
                    .getBean(io.workron.scheduler.gangs.GangAdmission.class)
                    .tick()
                    .admitted())
            .isZero();
      }
      // every dispatch each worker of the fleet ever got (none ended): at most its 2 slots
      String ours = String.join(",", fleet.stream().map(w -> "'" + w.id + "'").toList());
      String perWorker =
          "select coalesce(max(n), 0) from (select count(*) n from job_attempts "
              + "where worker_id in ("
              + ours
              + ") group by worker_id) per_worker";
      assertThat(sut.count(perWorker))
          .as(
              sut.rows(
                  "select worker_id, job_id, attempt from job_attempts where worker_id in ("
                      + ours
                      + ") order by worker_id"))
          .isEqualTo(2);
      for (FakeWorker w : fleet) {
        assertThat(w.received()).as(w.id).hasSizeLessThanOrEqualTo(2);
      }
      long gangTasksPlaced =
          sut.count(
              "select count(*) from jobs where gang_id is not null and status in ('running', 'reserved')");
      // a gang is placed whole or not at all
      assertThat(gangTasksPlaced % 3).isZero();
      assertThat(sut.count("select count(*) from jobs where status in ('running', 'reserved')"))
          .isEqualTo(6);
    }
  }

  // --- helpers

  private FakeWorker worker(String name, int slots) {
    return worker(name, slots, Resources.NONE);
  }

  private FakeWorker worker(String name, int slots, Resources resources) {
    FakeWorker w = new FakeWorker(name, slots, resources);
    workers.add(w);
    return w;
  }

  /** Waits until the gang is placed on {@code ws}, starts every task; returns them by index. */
  private JobDispatch[] runningGang(String gang, FakeWorker... ws) throws Exception {
    List<JobDispatch> placed = new ArrayList<>();
    await()
        .atMost(WAIT)
        .until(
            () -> {
              placed.clear();
              for (FakeWorker w : ws) {
                for (JobDispatch d : w.received()) {
                  if (d.jobId().startsWith(gang + "-") && !w.ended.contains(key(d))) {
                    placed.add(d);
                  }
                }
              }
              return placed.size()
                  == Integer.parseInt(
                      placed.isEmpty() ? "-1" : placed.get(0).env().get("GANG_SIZE"));
            });
    JobDispatch[] byIndex = new JobDispatch[placed.size()];
    for (JobDispatch d : placed) {
      byIndex[Integer.parseInt(d.env().get("GANG_INDEX"))] = d;
      on(d, ws).start(d);
    }
    await().atMost(WAIT).until(() -> statuses(gang).stream().allMatch("running"::equals));
    return byIndex;
  }

  private static String key(JobDispatch d) {
    return d.jobId() + "#" + d.attempt();
  }

  private static FakeWorker on(JobDispatch d, FakeWorker... ws) {
    for (FakeWorker w : ws) {
      if (w.id.equals(d.workerId())) {
        return w;
      }
    }
    throw new AssertionError(d.jobId() + " went to " + d.workerId());
  }

  private String submitGang(int size, int maxRetries, Resources resources) {
    return submitGang(size, maxRetries, resources, null, null);
  }

  private String submitGang(
      int size, int maxRetries, Resources resources, Integer priority, Boolean preemptible) {
    String id = "gang-it-" + UUID.randomUUID().toString().substring(0, 8);
    JobSubmission s =
        new JobSubmission(
            id,
            "train.sh",
            null,
            resources,
            priority,
            null,
            maxRetries,
            null,
            null,
            null,
            null,
            null,
            size,
            preemptible);
    sut.kafka.send(
        sut.topics.submissions(),
        id,
        sut.codec.encode(
            WireCodec.envelope(MessageType.JOB_SUBMITTED, "m-" + id, Instant.now(), s)));
    return id;
  }

  private JsonNode summary(String gang) throws Exception {
    return sut.get("/internal/gangs/" + gang + "/summary");
  }

  private String waitReason(String gang) throws Exception {
    if (sut.statusCode("/internal/gangs/" + gang + "/summary") != 200) {
      return "";
    }
    JsonNode s = summary(gang);
    return s.has("wait_reason") ? s.get("wait_reason").asString() : "";
  }

  private List<String> statuses(String gang) throws Exception {
    if (sut.statusCode("/internal/gangs/" + gang) != 200) {
      return List.of("unknown");
    }
    List<String> out = new ArrayList<>();
    for (JsonNode t : sut.get("/internal/gangs/" + gang)) {
      out.add(t.get("status").asString());
    }
    return out;
  }

  private static io.workron.schemas.GangEvent gangEvent(byte[] bytes) {
    try {
      return sut.codec.decode(bytes, MessageType.GANG_EVENT).payload();
    } catch (io.workron.schemas.InvalidMessageException e) {
      throw new AssertionError("scheduler-core wrote a gang event its own schema refuses", e);
    }
  }

  private static String base64(String text) {
    return java.util.Base64.getEncoder()
        .encodeToString(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** The job's checkpoint as text, or null when it has none. */
  private String checkpoint(String job) throws Exception {
    var r = sut.getResponse("/internal/jobs/" + job + "/checkpoint");
    return r.statusCode() == 200 ? r.body() : null;
  }

  /** Attempts of the job refunded (they do not count against its max_retries). */
  private long refunded(String job) throws Exception {
    return sut.count("select free_attempts from jobs where id = '" + job + "'");
  }

  /** Attempts of the job that count against its max_retries. */
  private long counted(String job) throws Exception {
    return sut.count(
        "select attempt - budget_start_attempt - free_attempts from jobs where id = '" + job + "'");
  }

  /** A worker played by the test: it heartbeats, lists what it was told to start, reports. */
  private final class FakeWorker implements AutoCloseable {
    final String id;
    final String incarnation = "i-" + UUID.randomUUID().toString().substring(0, 6);
    final List<RunningAttempt> running = new CopyOnWriteArrayList<>();
    final Set<String> ended = java.util.concurrent.ConcurrentHashMap.newKeySet();
    final TopicReader dispatches;
    final TopicReader stops;
    private final ScheduledFuture<?> beat;
    private final List<JobDispatch> seen = new CopyOnWriteArrayList<>();

    FakeWorker(String name, int slots, Resources resources) {
      id = sut.worker(name);
      dispatches = sut.readDispatches(id);
      stops = sut.readStops(id);
      beat =
          beats.scheduleAtFixedRate(
              () ->
                  sut.heartbeat(
                      id, incarnation, slots, running, WorkerHeartbeat.State.ACTIVE, resources),
              0,
              300,
              TimeUnit.MILLISECONDS);
    }

    /** Every dispatch received so far. */
    List<JobDispatch> received() {
      // delivery is at least once: a dispatch may come twice
      for (JobDispatch d : sut.dispatches(dispatches.drain(Duration.ofMillis(100)))) {
        if (seen.stream().noneMatch(x -> key(x).equals(key(d)))) {
          seen.add(d);
        }
      }
      return List.copyOf(seen);
    }

    JobDispatch next(int n) {
      await().atMost(WAIT).until(() -> received().size() >= n);
      return seen.get(n - 1);
    }

    /** The stop order for attempt {@code d}, waited for. */
    JobStop stopFor(JobDispatch d) {
      return await()
          .atMost(WAIT)
          .until(
              () -> {
                stopsSeen.addAll(sut.stops(stops.drain(Duration.ofMillis(100))));
                return stopsSeen.stream()
                    .filter(st -> st.jobId().equals(d.jobId()) && st.attempt() == d.attempt())
                    .findFirst()
                    .orElse(null);
              },
              java.util.Objects::nonNull);
    }

    private final List<JobStop> stopsSeen = new CopyOnWriteArrayList<>();

    void start(JobDispatch d) {
      running.add(new RunningAttempt(d.jobId(), d.attempt()));
    }

    void finish(JobDispatch d, JobResult.Outcome outcome, int exit, Integer epoch) {
      finish(d, outcome, exit, epoch, null);
    }

    /** Reports the attempt ended, with what it left in its checkpoint file ({@code saved}). */
    void finish(JobDispatch d, JobResult.Outcome outcome, int exit, Integer epoch, String saved) {
      StopCause cause =
          outcome != JobResult.Outcome.INTERRUPTED
              ? null
              : epoch != null ? StopCause.PREEMPTED : StopCause.CANCELLED;
      send(d, outcome, exit, cause, epoch, saved);
      running.remove(new RunningAttempt(d.jobId(), d.attempt()));
      ended.add(key(d));
    }

    void send(JobDispatch d, JobResult.Outcome outcome, int exit, StopCause cause, Integer epoch) {
      send(d, outcome, exit, cause, epoch, null);
    }

    void send(
        JobDispatch d,
        JobResult.Outcome outcome,
        int exit,
        StopCause cause,
        Integer epoch,
        String saved) {
      Instant now = Instant.now();
      JobResult r =
          new JobResult(
                  d.jobId(),
                  d.attempt(),
                  id,
                  incarnation,
                  outcome,
                  exit,
                  now,
                  now,
                  0L,
                  "",
                  false,
                  null,
                  cause,
                  epoch)
              .withCheckpoint(saved == null ? null : base64(saved), null);
      sut.kafka.send(
          sut.topics.results(),
          d.jobId(),
          sut.codec.encode(
              WireCodec.envelope(MessageType.JOB_RESULT, "r-" + UUID.randomUUID(), now, r)));
    }

    /** Ships {@code text} as the attempt's checkpoint, written in drain round {@code epoch}. */
    void checkpoint(JobDispatch d, int epoch, String text) {
      io.workron.schemas.JobCheckpoint cp =
          new io.workron.schemas.JobCheckpoint(
              d.jobId(), d.attempt(), epoch, id, incarnation, base64(text), null);
      sut.kafka.send(
          sut.topics.results(),
          d.jobId(),
          sut.codec.encode(
              WireCodec.envelope(
                  MessageType.JOB_CHECKPOINT, "cp-" + UUID.randomUUID(), Instant.now(), cp)));
    }

    void die() {
      beat.cancel(false);
    }

    @Override
    public void close() {
      beat.cancel(false);
      dispatches.close();
      stops.close();
    }
  }
}
