package io.workron.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Retention with a short window: finished jobs really go, with their attempts, output and edges;
 * running and waiting work is untouched; a pruned id is never stored again.
 */
class RetentionIT {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static SchedulerUnderTest sut;

  @BeforeAll
  static void start() {
    sut =
        new SchedulerUnderTest(
            "--workron.scheduler.reaper-tick=200ms",
            "--workron.scheduler.retention=1h",
            "--workron.scheduler.retention-interval=200ms",
            "--workron.scheduler.retention-batch-size=2");
  }

  @AfterAll
  static void stop() {
    sut.close();
  }

  @Test
  void finishedJobsGoAfterTheRetentionWithWhatTheyHadAndRunningWorkStays() throws Exception {
    String old1 = "job-old-done-" + System.nanoTime();
    String old2 = "job-old-failed-" + System.nanoTime();
    String old3 = "job-old-cancelled-" + System.nanoTime();
    String recent = "job-recent-done-" + System.nanoTime();
    String running = "job-old-running-" + System.nanoTime();
    String waiting = "job-old-blocked-" + System.nanoTime();
    // one transaction: a pass running meanwhile sees the jobs with all their rows, or none of them
    sut.execute(
        "begin; "
            + insert(old1, "done", "now() - interval '2 hours'")
            + insert(old2, "failed", "now() - interval '3 hours'")
            + insert(old3, "cancelled", "now() - interval '90 minutes'")
            + insert(recent, "done", "now() - interval '10 minutes'")
            + insert(running, "running", "null")
            + insert(waiting, "blocked", "null")
            + "insert into job_attempts (job_id, attempt, worker_id, incarnation, dispatched_at) "
            + "values ('"
            + old1
            + "', 1, 'w', 'i', now() - interval '3 hours'), "
            + "('"
            + running
            + "', 1, 'w', 'i', now() - interval '3 hours'); "
            + "insert into job_outputs (job_id, attempt, output) values ('"
            + old1
            + "', 1, 'bye'); "
            + "insert into job_dependencies (job_id, depends_on) values "
            + "('"
            + old2
            + "', '"
            + old1
            + "'), ('"
            + waiting
            + "', '"
            + old1
            + "'); "
            + "commit");

    await().atMost(WAIT).until(() -> sut.job(old1) == null && sut.job(old2) == null);
    await().atMost(WAIT).until(() -> sut.job(old3) == null);

    assertThat(sut.getResponse("/internal/jobs/" + old1).statusCode()).isEqualTo(404);
    assertThat(count("job_attempts where job_id = '" + old1 + "'")).isZero();
    assertThat(count("job_outputs where job_id = '" + old1 + "'")).isZero();
    assertThat(count("job_dependencies where job_id = '" + old2 + "'")).isZero();
    assertThat(count("pruned_jobs where id in ('" + old1 + "', '" + old2 + "', '" + old3 + "')"))
        .isEqualTo(3);
    // what runs, waits, or finished within the retention stays, with its rows
    assertThat(sut.status(recent)).isEqualTo("done");
    assertThat(sut.status(running)).isEqualTo("running");
    assertThat(sut.status(waiting)).isEqualTo("blocked");
    assertThat(count("job_attempts where job_id = '" + running + "'")).isEqualTo(1);
    assertThat(count("job_dependencies where job_id = '" + waiting + "'")).isEqualTo(1);

    // a redelivered submission of a pruned job does not bring it back
    sut.kafka.send(sut.topics.submissions(), old1, sut.submission(old1, "true", 1, null));
    String after = sut.submit("true", 1);
    await().atMost(WAIT).until(() -> sut.job(after) != null);
    sut.kafka.awaitConsumed(
        sut.topics.prefix() + "-scheduler-submissions", sut.topics.submissions(), WAIT);
    assertThat(sut.job(old1)).isNull();
  }

  private static String insert(String id, String status, String finishedAt) {
    return "insert into jobs (id, command, status, created_at, run_at, finished_at, attempt) values ('"
        + id
        + "', 'true', '"
        + status
        + "', now() - interval '4 hours', now() - interval '4 hours', "
        + finishedAt
        + ", 1); ";
  }

  private static long count(String from) throws Exception {
    return sut.count("select count(*) from " + from);
  }
}
