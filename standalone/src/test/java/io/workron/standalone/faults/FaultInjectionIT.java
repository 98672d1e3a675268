package io.workron.standalone.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.workron.schemas.JobSubmission;
import io.workron.schemas.MessageType;
import io.workron.schemas.WireCodec;
import io.workron.testsupport.KafkaFixture;
import io.workron.testsupport.KafkaFixture.TopicReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Kills and restarts real processes and servers while jobs flow, then checks the same invariants
 * after each scenario: every accepted job is done, none completed twice, attempts match history.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultInjectionIT {

  private static final Duration STARTUP = Duration.ofSeconds(180);
  private static final WireCodec codec = new WireCodec();
  private static FaultCluster cluster;
  private static KafkaFixture kafka;

  @BeforeAll
  static void start() throws Exception {
    cluster = new FaultCluster();
    cluster.startPostgres();
    cluster.startKafka();
    kafka = new KafkaFixture(cluster.kafkaBootstrap());
    cluster.startScheduler("scheduler-a");
    cluster.startWorker("worker-1");
    cluster.startWorker("worker-2");
    awaitReady("scheduler-a");
    awaitWorkerActive("worker-1", null);
    awaitWorkerActive("worker-2", null);
  }

  @AfterAll
  static void stop() throws Exception {
    if (kafka != null) {
      kafka.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  @Order(1)
  void aJobWhoseWorkerIsKilledMidwayRunsAgainOnTheOtherWorkerAndIsDoneOnce() throws Exception {
    // a unique argument, to find the first attempt's command among the machine's processes
    String unique = "20." + (System.nanoTime() % 1_000_000);
    String id = submit("sleep " + unique + "$WORKRON_ATTEMPT", 3);
    String sleep = "sleep " + unique + "1";
    String victim = awaitRunningAndListedByItsWorker(id);
    String victimIncarnation = value("select incarnation from workers where id = ?", victim);
    await().atMost(Duration.ofSeconds(30)).until(() -> running(sleep) > 0);

    cluster.kill(victim);
    Instant killedAt = Instant.now();
    // the killed worker's command does not outlive it (its watchdog stops the process group)
    await().atMost(Duration.ofSeconds(20)).until(() -> running(sleep) == 0);
    long goneMs = Duration.between(killedAt, Instant.now()).toMillis();

    await().atMost(Duration.ofSeconds(90)).until(() -> "done".equals(status(id)));
    assertThat(value("select count(*)::text from job_attempts where job_id = ?", id))
        .isEqualTo("2");
    assertThat(value("select outcome from job_attempts where job_id = ? and attempt = 1", id))
        .isEqualTo("worker_lost");
    assertThat(value("select worker_id from job_attempts where job_id = ? and attempt = 2", id))
        .isNotEqualTo(victim);
    Instant redispatched =
        Instant.parse(
            value(
                "select to_char(dispatched_at at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') from job_attempts where job_id = ? and attempt = 2",
                id));
    report(
        "worker killed mid-job",
        "its command gone "
            + goneMs
            + " ms after kill -9 of the worker; re-dispatched "
            + Duration.between(killedAt, redispatched).toMillis()
            + " ms after, 2 attempts");
    Invariants.check(cluster.jdbcUrl(), cluster.dbUser(), cluster.dbPassword(), List.of(id));

    cluster.startWorker(victim);
    awaitWorkerActive(victim, victimIncarnation);
  }

  @Test
  @Order(2)
  void aReplicaKilledBetweenClaimAndRelayLeavesItsWorkToTheSurvivor() throws Exception {
    // the victim never relays its outbox, so the kill always lands after a claim and before relay
    cluster.startScheduler("scheduler-c", "--workron.scheduler.outbox-relay-enabled=false");
    awaitReady("scheduler-c");
    // Submit one job at a time until the victim has claimed some: a replica that ingests a
    // submission is woken at once and usually claims it, and the 12 partitions are split between
    // the two replicas.
    List<String> ids = new ArrayList<>();
    String stranded;
    try {
      while (victimDispatchesWaiting() == 0) {
        assertThat(ids).as("scheduler-c never claimed a job").hasSizeLessThan(400);
        ids.add(submit("true", 3));
        try {
          await().atMost(Duration.ofMillis(300)).until(() -> victimDispatchesWaiting() > 0);
        } catch (org.awaitility.core.ConditionTimeoutException notYet) {
          // the other replica took it; submit another
        }
      }
      stranded = Integer.toString(victimDispatchesWaiting());
    } finally {
      cluster.kill("scheduler-c");
    }
    Instant killedAt = Instant.now();

    await().atMost(Duration.ofSeconds(120)).until(() -> countDone(ids) == ids.size());
    report(
        "scheduler replica killed before relay",
        stranded
            + " claimed dispatches stranded; all "
            + ids.size()
            + " jobs done "
            + Duration.between(killedAt, Instant.now()).toMillis()
            + " ms after kill -9");
    Invariants.check(cluster.jdbcUrl(), cluster.dbUser(), cluster.dbPassword(), ids);
  }

  @Test
  @Order(3)
  void aThousandJobsSurviveARestartOfTheKafkaBroker() throws Exception {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      ids.add(submit("true", 3));
    }
    await().atMost(Duration.ofSeconds(120)).until(() -> countDone(ids) >= 100);

    cluster.stopKafka();
    Instant stoppedAt = Instant.now();
    int doneAtStop = countDone(ids);
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> cluster.readiness("scheduler-a") == 503);
      assertThat(cluster.liveness("scheduler-a")).isEqualTo(200);
    } finally {
      cluster.startKafka();
    }
    Instant restartedAt = Instant.now();
    await().atMost(Duration.ofSeconds(60)).until(() -> cluster.readiness("scheduler-a") == 200);

    await().atMost(Duration.ofSeconds(240)).until(() -> countDone(ids) == ids.size());
    report(
        "Kafka broker restarted",
        doneAtStop
            + "/1000 done at stop, broker down "
            + Duration.between(stoppedAt, restartedAt).toMillis()
            + " ms, all done "
            + Duration.between(restartedAt, Instant.now()).toMillis()
            + " ms after restart, max attempts "
            + value("select max(attempt)::text from jobs where id = any(?)", ids));
    Invariants.check(cluster.jdbcUrl(), cluster.dbUser(), cluster.dbPassword(), ids);
  }

  @Test
  @Order(4)
  void jobsSurviveARestartOfPostgresqlAndTheSchedulerIsUnreadyMeanwhile() throws Exception {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      ids.add(submit("true", 3));
    }
    await().atMost(Duration.ofSeconds(120)).until(() -> countDone(ids) >= 30);

    cluster.stopPostgres();
    Instant stoppedAt = Instant.now();
    Duration toUnready;
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> cluster.readiness("scheduler-a") == 503);
      assertThat(cluster.liveness("scheduler-a")).isEqualTo(200);
      toUnready = Duration.between(stoppedAt, Instant.now());
    } finally {
      cluster.startPostgres();
    }
    Instant restartedAt = Instant.now();
    await().atMost(Duration.ofSeconds(60)).until(() -> cluster.readiness("scheduler-a") == 200);
    Duration toReady = Duration.between(restartedAt, Instant.now());

    await().atMost(Duration.ofSeconds(240)).until(() -> countDone(ids) == ids.size());
    // the reaper did not take the outage for dead workers: nothing ran twice
    assertThat(value("select max(attempt)::text from jobs where id = any(?)", ids)).isEqualTo("1");
    report(
        "PostgreSQL restarted",
        "unready "
            + toUnready.toMillis()
            + " ms after stop, ready "
            + toReady.toMillis()
            + " ms after restart, all 300 done "
            + Duration.between(restartedAt, Instant.now()).toMillis()
            + " ms after restart");
    Invariants.check(cluster.jdbcUrl(), cluster.dbUser(), cluster.dbPassword(), ids);
  }

  @Test
  @Order(5)
  void aDuplicateSubmissionAndAReplayedResultMakeOneJobWithOneCompletion() throws Exception {
    try (TopicReader results = kafka.read(cluster.topics().results())) {
      String id = "job-dup-" + UUID.randomUUID();
      byte[] doc = submission(id, "echo once", 3);
      kafka.send(cluster.topics().submissions(), id, doc);
      kafka.send(cluster.topics().submissions(), id, doc);
      await().atMost(Duration.ofSeconds(60)).until(() -> "done".equals(status(id)));

      ConsumerRecord<String, byte[]> result =
          results
              .until(rs -> rs.stream().anyMatch(r -> isResultOf(id, r)), Duration.ofSeconds(30))
              .stream()
              .filter(r -> isResultOf(id, r))
              .findFirst()
              .orElseThrow();
      double staleBefore = staleResults();
      kafka.send(cluster.topics().results(), id, result.value());

      await().atMost(Duration.ofSeconds(30)).until(() -> staleResults() > staleBefore);
      assertThat(value("select count(*)::text from jobs where id = ?", id)).isEqualTo("1");
      report("duplicate submission + replayed result", "1 job, 1 attempt, replay counted as stale");
      Invariants.check(cluster.jdbcUrl(), cluster.dbUser(), cluster.dbPassword(), List.of(id));
    }
  }

  @Test
  @Order(6)
  void aWorkerAskedToStopHandsItsJobBackWithoutUsingARetry() throws Exception {
    // max_retries 1: had the interrupted attempt counted, the job would fail
    String id = submit("sleep 12", 1);
    String leaving = awaitRunningAndListedByItsWorker(id);
    String incarnation = value("select incarnation from workers where id = ?", leaving);

    Instant asked = Instant.now();
    cluster.stop(leaving); // SIGTERM: deadline 5 s, then TERM to the job, grace 2 s, then KILL

    await().atMost(Duration.ofSeconds(90)).until(() -> "done".equals(status(id)));
    assertThat(value("select outcome from job_attempts where job_id = ? and attempt = 1", id))
        .isEqualTo("interrupted");
    assertThat(value("select worker_id from job_attempts where job_id = ? and attempt = 2", id))
        .isNotEqualTo(leaving);
    report(
        "worker stopped gracefully",
        "job handed back and done on the other worker "
            + Duration.between(asked, Instant.now()).toMillis()
            + " ms after SIGTERM, 2 attempts, no retry used");
    Invariants.check(cluster.jdbcUrl(), cluster.dbUser(), cluster.dbPassword(), List.of(id));

    cluster.startWorker(leaving);
    awaitWorkerActive(leaving, incarnation);
  }

  @Test
  @Order(7)
  void aBrokerOutageOfTwiceTheOfflineWindowWhileJobsRunMarksNoWorkerLostAndFailsNothing()
      throws Exception {
    // max_retries 1: an attempt wrongly taken back for a lost worker would fail its job
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      ids.add(submit("sleep 4", 1));
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                "8"
                    .equals(
                        value(
                            "select count(*)::text from jobs where id = any(?) "
                                + "and status = 'running' and last_heartbeat_at is not null",
                            ids)));

    cluster.stopKafka();
    Instant stoppedAt = Instant.now();
    Duration outage = Duration.ofSeconds(10); // worker-offline-after is 5 s
    try {
      // heartbeats cannot be read for twice the offline window; scheduler-core says so
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  Duration.between(stoppedAt, Instant.now()).compareTo(outage) >= 0
                      && cluster.readiness("scheduler-a") == 503);
    } finally {
      cluster.startKafka();
    }
    Instant restartedAt = Instant.now();

    await().atMost(Duration.ofSeconds(120)).until(() -> countDone(ids) == ids.size());
    assertThat(value("select max(attempt)::text from jobs where id = any(?)", ids)).isEqualTo("1");
    assertThat(
            value("select count(*)::text from jobs where id = any(?) and status = 'failed'", ids))
        .isEqualTo("0");
    assertThat(
            value(
                "select count(*)::text from workers where status = 'offline' and id = any(?)",
                List.of("worker-1", "worker-2")))
        .isEqualTo("0");
    report(
        "Kafka broker down for twice the offline window while jobs ran",
        "broker down "
            + Duration.between(stoppedAt, restartedAt).toMillis()
            + " ms, all 8 done "
            + Duration.between(restartedAt, Instant.now()).toMillis()
            + " ms after restart, 1 attempt each, no worker marked lost");
    Invariants.check(cluster.jdbcUrl(), cluster.dbUser(), cluster.dbPassword(), ids);
  }

  @Test
  @Order(8)
  void aGangWaitsForAThirdWorkerThenDrainsInSecondsWhenOneIsKilledAndResumesFromCheckpoints()
      throws Exception {
    String gang = "gang-fault-" + UUID.randomUUID().toString().substring(0, 8);
    String script =
        java.nio.file.Path.of("..", "examples", "train.sh").toAbsolutePath().normalize().toString();
    JobSubmission s = gang(gang, "STEPS=40 STEP_SECONDS=0.5 sh " + script, 3, 3);
    kafka.send(
        cluster.topics().submissions(),
        gang,
        codec.encode(WireCodec.envelope(MessageType.JOB_SUBMITTED, "m-" + gang, Instant.now(), s)));
    List<String> tasks = List.of(gang + "-0", gang + "-1", gang + "-2");
    // two workers: the gang of three waits, saying why, and nothing of it runs
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                "needs 3 distinct workers; only 2 registered workers do"
                    .equals(value("select wait_reason from gangs where id = ?", gang)));
    assertThat(
            value(
                "select count(*)::text from jobs where gang_id = ? and status <> 'blocked'", gang))
        .isEqualTo("0");
    // more workers join (a fourth too, so that after the kill below the gang can come back at
    // once on three live ones): all three tasks start at once, as soon as there are three
    cluster.startWorker("worker-3");
    cluster.startWorker("worker-4");
    String victim = null;
    try {

      await()
          .atMost(Duration.ofSeconds(90))
          .until(
              () ->
                  "3"
                      .equals(
                          value(
                              "select count(*)::text from jobs where gang_id = ? and status = 'running' "
                                  + "and last_heartbeat_at is not null",
                              gang)));
      // every task has shipped a checkpoint a few steps in
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  "3"
                      .equals(
                          value(
                              "select count(*)::text from checkpoints c join jobs j on j.id = c.job_id "
                                  + "where j.gang_id = ? and convert_from(c.data, 'UTF8') ~ 'step=([3-9]|1[0-9])'",
                              gang)));
      assertThat(value("select count(distinct worker_id)::text from jobs where gang_id = ?", gang))
          .isEqualTo("3");
      awaitWorkerActive("worker-3", null);
      awaitWorkerActive("worker-4", null);
      victim = value("select worker_id from jobs where id = ?", gang + "-1");

      cluster.kill(victim);
      Instant killedAt = Instant.now();

      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  value(
                          "select ended_at::text from gang_drains where gang_id = ? and epoch = 1",
                          gang)
                      != null);
      String drain =
          value(
              "select (extract(epoch from started_at) * 1000)::bigint || ',' "
                  + "|| (extract(epoch from ended_at - started_at) * 1000)::bigint || ',' "
                  + "|| acks || ',' || forced || ',' || coalesce(trigger_job, '') || ',' || ordered "
                  + "from gang_drains where gang_id = ? and epoch = 1",
              gang);
      String[] d = drain.split(",");
      long startedMs = Long.parseLong(d[0]);
      long drainMs = Long.parseLong(d[1]);
      // the two live siblings acknowledged; nothing waited for a timeout
      assertThat(d[4]).isEqualTo(gang + "-1");
      assertThat(Integer.parseInt(d[5])).isEqualTo(2);
      assertThat(Integer.parseInt(d[2])).isEqualTo(2);
      assertThat(Integer.parseInt(d[3])).isZero();

      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> "2".equals(value("select admissions::text from gangs where id = ?", gang)));
      long readmittedMs =
          Long.parseLong(
              value(
                  "select (extract(epoch from admitted_at) * 1000)::bigint::text from gangs where id = ?",
                  gang));
      await().atMost(Duration.ofSeconds(120)).until(() -> countDone(tasks) == 3);
      // each task resumed where its checkpoint said, not from step 0
      for (String task : tasks) {
        String output = value("select output from job_outputs where job_id = ?", task);
        java.util.regex.Matcher m =
            java.util.regex.Pattern.compile("starts at step (\\d+)").matcher(output);
        assertThat(m.find()).as(output).isTrue();
        assertThat(Integer.parseInt(m.group(1))).as(task + ": " + output).isGreaterThan(0);
        assertThat(output).contains("done at step 40");
        assertThat(value("select attempt::text from jobs where id = ?", task)).isEqualTo("2");
      }
      assertThat(value("select worker_id from jobs where id = ?", gang + "-1"))
          .isNotEqualTo(victim);
      report(
          "gang worker killed",
          "drain began "
              + (startedMs - killedAt.toEpochMilli())
              + " ms after kill -9 (worker-offline-after 5 s), took "
              + drainMs
              + " ms with 2 acks and none forced; re-admitted "
              + (readmittedMs - killedAt.toEpochMilli())
              + " ms after the kill; all 3 tasks resumed from their checkpoints and done");
      Invariants.check(cluster.jdbcUrl(), cluster.dbUser(), cluster.dbPassword(), tasks);

    } finally {
      // the next scenarios expect worker-1 and worker-2 only
      if (victim != null && !cluster.isRunning(victim)) {
        cluster.startWorker(victim);
      }
      cluster.stop("worker-4");
      cluster.stop("worker-3");
    }
  }

  @Test
  @Order(9)
  void aHighPriorityJobPreemptsALowPriorityPreemptibleOneWhichResumesFromItsCheckpoint()
      throws Exception {
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                "2".equals(value("select count(*)::text from workers where status = ?", "active")));
    // each job asks for most of a worker's memory: one per worker
    long memory =
        Long.parseLong(value("select min(memory_mb)::text from workers where status = ?", "active"))
            * 6
            / 10;
    String script =
        java.nio.file.Path.of("..", "examples", "train.sh").toAbsolutePath().normalize().toString();
    String victim =
        submit(
            new JobSubmission(
                "job-fault-low-" + UUID.randomUUID(),
                "STEPS=16 STEP_SECONDS=0.5 sh " + script,
                null,
                new io.workron.schemas.Resources(0, memory),
                0,
                null,
                1,
                null,
                null,
                null,
                null,
                null,
                null,
                true));
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                value(
                        "select convert_from(data, 'UTF8') from checkpoints where job_id = ? "
                            + "and convert_from(data, 'UTF8') ~ 'step=([3-9]|1[0-9])'",
                        victim)
                    != null);
    String bystander =
        submit(
            new JobSubmission(
                "job-fault-keep-" + UUID.randomUUID(),
                "sleep 12",
                null,
                new io.workron.schemas.Resources(0, memory),
                -5,
                null,
                1,
                null));
    await().atMost(Duration.ofSeconds(60)).until(() -> "running".equals(status(bystander)));
    Instant submitted = Instant.now();
    String urgent =
        submit(
            new JobSubmission(
                "job-fault-urgent-" + UUID.randomUUID(),
                "sleep 1",
                null,
                new io.workron.schemas.Resources(0, memory),
                10,
                null,
                1,
                null));

    await().atMost(Duration.ofSeconds(60)).until(() -> "done".equals(status(urgent)));
    long urgentDoneMs = Duration.between(submitted, Instant.now()).toMillis();
    await().atMost(Duration.ofSeconds(120)).until(() -> countDone(List.of(victim, bystander)) == 2);

    // the victim was stopped once, its attempt refunded (max_retries 1), and it resumed
    assertThat(value("select attempt::text from jobs where id = ?", victim)).isEqualTo("2");
    assertThat(value("select free_attempts::text from jobs where id = ?", victim)).isEqualTo("1");
    assertThat(value("select outcome from job_attempts where job_id = ? and attempt = 1", victim))
        .isEqualTo("interrupted");
    String output = value("select output from job_outputs where job_id = ?", victim);
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("starts at step (\\d+)").matcher(output);
    assertThat(m.find()).as(output).isTrue();
    assertThat(Integer.parseInt(m.group(1))).as(output).isGreaterThan(0);
    assertThat(output).contains("done at step 16");
    // the non-preemptible job was never touched
    assertThat(value("select attempt::text from jobs where id = ?", bystander)).isEqualTo("1");
    report(
        "priority preemption",
        "the priority-10 job was done "
            + urgentDoneMs
            + " ms after submission; the preemptible victim resumed at step "
            + m.group(1)
            + " and was done; the non-preemptible job ran once");
    Invariants.check(
        cluster.jdbcUrl(),
        cluster.dbUser(),
        cluster.dbPassword(),
        List.of(victim, bystander, urgent));
  }

  @Test
  @Order(10)
  void aGangTaskThatAlwaysFailsMakesTheGangFailedAfterMaxRetriesRoundsWithItsSiblingRefunded()
      throws Exception {
    String gang = "gang-fault-bad-" + UUID.randomUUID().toString().substring(0, 8);
    // task 1 fails at once, every time; task 0 would run for a minute
    JobSubmission s =
        gang(gang, "if [ \"$GANG_INDEX\" = 1 ]; then echo broken; exit 3; fi; sleep 60", 2, 2);
    kafka.send(
        cluster.topics().submissions(),
        gang,
        codec.encode(WireCodec.envelope(MessageType.JOB_SUBMITTED, "m-" + gang, Instant.now(), s)));

    await()
        .atMost(Duration.ofSeconds(90))
        .until(
            () ->
                "2"
                    .equals(
                        value(
                            "select count(*)::text from jobs where gang_id = ? and status = 'failed'",
                            gang)));
    assertThat(value("select failure_reason from jobs where id = ?", gang + "-1"))
        .isEqualTo("gang failed: task " + gang + "-1 used its last attempt (2 of 2): exit code 3");
    // two rounds; each time the sibling was stopped and its attempt given back
    assertThat(value("select count(*)::text from gang_drains where gang_id = ?", gang))
        .isEqualTo("2");
    assertThat(value("select attempt || '/' || free_attempts from jobs where id = ?", gang + "-0"))
        .isEqualTo("2/2");
    assertThat(
            value(
                "select string_agg(outcome, ',' order by attempt) from job_attempts where job_id = ?",
                gang + "-0"))
        // stopped while running, or drained before its worker listed it (it may fail first)
        .matches("(interrupted|drained),(interrupted|drained)");
    // its sleep did not outlive the gang
    await().atMost(Duration.ofSeconds(30)).until(() -> running("sleep 60") == 0);
  }

  // --- helpers

  /**
   * Processes on this machine whose command line ends with {@code commandLine} (the program may be
   * given as a path, and the shell that runs it counts too).
   */
  private static long running(String commandLine) {
    return ProcessHandle.allProcesses()
        .filter(p -> p.info().commandLine().map(c -> c.endsWith(commandLine)).orElse(false))
        .count();
  }

  /** Waits until the job runs and its worker's heartbeat lists it; returns that worker. */
  private static String awaitRunningAndListedByItsWorker(String id) {
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                value(
                        "select worker_id from jobs where id = ? and status = 'running' "
                            + "and last_heartbeat_at is not null",
                        id)
                    != null);
    return value("select worker_id from jobs where id = ?", id);
  }

  private static int victimDispatchesWaiting() {
    String n =
        value(
            "select count(*)::text from outbox where owner = 'scheduler-c' and topic like ?",
            FaultCluster.PREFIX + ".dispatch.%");
    return n == null ? 0 : Integer.parseInt(n);
  }

  private static void report(String scenario, String observed) {
    System.out.println("FAULT-INJECTION " + scenario + ": " + observed);
  }

  private static void awaitReady(String scheduler) {
    await()
        .atMost(STARTUP)
        .pollInterval(Duration.ofMillis(500))
        .until(() -> cluster.readiness(scheduler) == 200);
  }

  private static void awaitWorkerActive(String worker, String notIncarnation) {
    await()
        .atMost(STARTUP)
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> {
              String inc =
                  value(
                      "select incarnation from workers where id = ? and status = 'active'", worker);
              return inc != null && !inc.equals(notIncarnation);
            });
  }

  private static byte[] submission(String id, String command, int maxRetries) {
    JobSubmission s = new JobSubmission(id, command, null, null, null, null, maxRetries, null);
    return codec.encode(WireCodec.envelope(MessageType.JOB_SUBMITTED, "m-" + id, Instant.now(), s));
  }

  private static String submit(String command, int maxRetries) {
    String id = "job-fault-" + UUID.randomUUID();
    kafka.send(cluster.topics().submissions(), id, submission(id, command, maxRetries));
    return id;
  }

  /** A gang of {@code size} tasks running {@code command}, with {@code maxRetries} attempts. */
  private static JobSubmission gang(String id, String command, int maxRetries, int size) {
    return new JobSubmission(
        id, command, null, null, null, null, maxRetries, null, null, null, null, null, size, null);
  }

  private static String submit(JobSubmission s) {
    kafka.send(
        cluster.topics().submissions(),
        s.id(),
        codec.encode(
            WireCodec.envelope(MessageType.JOB_SUBMITTED, "m-" + s.id(), Instant.now(), s)));
    return s.id();
  }

  private static String status(String id) throws Exception {
    return value("select status from jobs where id = ?", id);
  }

  private static int countDone(List<String> ids) throws Exception {
    String n = value("select count(*)::text from jobs where status = 'done' and id = any(?)", ids);
    return n == null ? 0 : Integer.parseInt(n);
  }

  /** First column of the first row as text, or null; null too while PostgreSQL is down. */
  private static String value(String sql, Object param) {
    try (Connection c =
            DriverManager.getConnection(cluster.jdbcUrl(), cluster.dbUser(), cluster.dbPassword());
        PreparedStatement st = c.prepareStatement(sql)) {
      if (param instanceof List<?> list) {
        st.setArray(1, c.createArrayOf("varchar", list.toArray()));
      } else {
        st.setObject(1, param);
      }
      try (ResultSet rs = st.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    } catch (java.sql.SQLException e) {
      return null;
    }
  }

  private static double staleResults() throws Exception {
    // scheduler-a's own metric, as Prometheus scrapes it
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(cluster.schedulerUrl("scheduler-a") + "/actuator/prometheus"))
                    .build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    return r.body()
        .lines()
        .filter(l -> l.startsWith("workron_stale_messages_total") && l.contains("kind=\"result\""))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  /** A result of job {@code id}, not one of its output messages on the same topic. */
  private static boolean isResultOf(String id, ConsumerRecord<String, byte[]> r) {
    return id.equals(r.key())
        && new String(r.value(), StandardCharsets.UTF_8).contains("\"type\":\"job.result.v1\"");
  }
}
