package io.workron.scheduler.lifecycle;

import static io.workron.scheduler.db.Tables.JOBS;
import static io.workron.scheduler.db.Tables.OUTBOX;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workron.scheduler.core.JobStatus;
import io.workron.scheduler.core.Transition;
import io.workron.scheduler.db.tables.records.JobsRecord;
import io.workron.scheduler.outbox.JobEvents;
import io.workron.scheduler.outbox.Outbox;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import io.workron.testsupport.TestInfrastructure;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.flywaydb.core.Flyway;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The state machine on the real schema: every (status, transition) pair. An allowed pair changes
 * the row, announces it in the outbox and after the commit; a forbidden or stale one changes
 * nothing and says why.
 */
class JobTransitionsIT {

  private static final AtomicLong seq = new AtomicLong();
  private static final OffsetDateTime NOW =
      OffsetDateTime.of(2026, 12, 1, 12, 0, 0, 0, ZoneOffset.UTC);
  private static DSLContext db;
  private static JobTransitions transitions;
  private static final List<Object> published = new ArrayList<>();

  @BeforeAll
  static void migrate() {
    TestInfrastructure infra = TestInfrastructure.get();
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl(infra.newDatabase());
    ds.setUser(infra.username());
    ds.setPassword(infra.password());
    Flyway.configure().dataSource(ds).locations("classpath:db/migration").load().migrate();
    db = DSL.using(ds, SQLDialect.POSTGRES);
    Clock clock = Clock.systemUTC();
    transitions =
        new JobTransitions(
            db,
            new JobEvents(new WireCodec(), new Topics("transitions-it"), clock),
            new Outbox(db, clock, "test", published::add),
            published::add);
  }

  @BeforeEach
  void forgetPublished() {
    published.clear();
  }

  static Stream<Arguments> everyPair() {
    return Stream.of(Transition.values())
        .flatMap(t -> Stream.of(JobStatus.values()).map(s -> Arguments.of(t, s)));
  }

  @ParameterizedTest(name = "{0} from {1}")
  @MethodSource("everyPair")
  void anAllowedPairMovesTheRowAndAnyOtherChangesNothingAndSaysWhy(Transition t, JobStatus from) {
    String id = aJob(from, 3);
    JobsRecord before = row(id);

    JobTransitions.Applied applied = transitions.apply(t, List.of(move(id, 3)), NOW);

    if (t.from().contains(from)) {
      assertThat(applied.refused()).isEmpty();
      assertThat(applied.moved())
          .singleElement()
          .satisfies(m -> assertThat(m.status()).isEqualTo(t.to()));
      JobsRecord after = row(id);
      assertThat(after.getStatus()).isEqualTo(t.to().wire());
      assertThat(after.getAttempt())
          .isEqualTo(t == Transition.CLAIM || t == Transition.RESERVE ? 4 : 3);
      if (t.to().isTerminal()) {
        assertThat(after.getFinishedAt()).isNotNull();
      } else {
        // a job that may run again shows no end
        assertThat(after.getFinishedAt()).isNull();
      }
      assertThat(eventsOf(id)).containsExactly("\"status\":\"" + t.to().wire() + "\"");
      assertThat(published)
          .anySatisfy(
              e ->
                  assertThat(e)
                      .isInstanceOfSatisfying(
                          JobTransitions.JobsMoved.class,
                          m -> {
                            assertThat(m.transition()).isEqualTo(t);
                            assertThat(m.moved())
                                .extracting(JobTransitions.Moved::jobId)
                                .containsExactly(id);
                          }))
          .anySatisfy(e -> assertThat(e).isInstanceOf(Outbox.Written.class));
    } else {
      assertThat(applied.moved()).isEmpty();
      assertThat(applied.refused())
          .singleElement()
          .satisfies(
              r -> {
                assertThat(r.why()).isEqualTo(JobTransitions.Why.WRONG_STATUS);
                assertThat(r.detail()).contains(t.name()).contains(from.wire());
              });
      assertThat(row(id)).isEqualTo(before);
      assertThat(eventsOf(id)).isEmpty();
      assertThat(published).isEmpty();
    }
  }

  static Stream<Arguments> fencedPairs() {
    return Stream.of(Transition.values())
        .filter(t -> t.fence() != Transition.Fence.NONE)
        .flatMap(t -> t.from().stream().map(s -> Arguments.of(t, s)));
  }

  @ParameterizedTest(name = "{0} from {1}")
  @MethodSource("fencedPairs")
  void aMoveAboutAnOlderAttemptChangesNothing(Transition t, JobStatus from) {
    String id = aJob(from, 3);
    JobsRecord before = row(id);

    JobTransitions.Applied applied = transitions.apply(t, List.of(move(id, 2)), NOW);

    assertThat(applied.moved()).isEmpty();
    assertThat(applied.refused())
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.why()).isEqualTo(JobTransitions.Why.STALE_ATTEMPT);
              assertThat(r.detail()).contains("attempt 3, not 2");
            });
    assertThat(row(id)).isEqualTo(before);
    assertThat(eventsOf(id)).isEmpty();
  }

  @Test
  void anAcknowledgementOfAnotherDrainRoundChangesNothing() {
    String id = aJob(JobStatus.PREEMPTING, 3);
    JobsRecord before = row(id);

    JobTransitions.Applied applied =
        transitions.apply(Transition.ACK_PREEMPT, List.of(move(id, 3).inEpoch(1)), NOW);

    assertThat(applied.moved()).isEmpty();
    assertThat(applied.refused())
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.why()).isEqualTo(JobTransitions.Why.STALE_EPOCH);
              assertThat(r.detail()).contains("drain round 0, not 1");
            });
    assertThat(row(id)).isEqualTo(before);
    assertThat(eventsOf(id)).isEmpty();
  }

  @Test
  void aMoveOfAnUnknownJobChangesNothingAndSaysSo() {
    JobTransitions.Applied applied =
        transitions.apply(Transition.RELEASE, List.of(JobTransitions.Move.of("no-such-job")), NOW);

    assertThat(applied.moved()).isEmpty();
    assertThat(applied.refused())
        .singleElement()
        .satisfies(r -> assertThat(r.why()).isEqualTo(JobTransitions.Why.UNKNOWN_JOB));
  }

  @Test
  void oneStatementMovesManyJobsAndOnlyThoseItMayMove() {
    String a = aJob(JobStatus.RUNNING, 1);
    String b = aJob(JobStatus.RUNNING, 2);
    String finished = aJob(JobStatus.DONE, 1);

    JobTransitions.Applied applied =
        transitions.apply(
            Transition.REQUEUE,
            List.of(
                JobTransitions.Move.at(a, 1).because("worker lost"),
                JobTransitions.Move.at(b, 2).because("dispatch not acknowledged").free(true),
                JobTransitions.Move.at(finished, 1).because("worker lost")),
            NOW);

    assertThat(applied.movedIds()).containsExactlyInAnyOrder(a, b);
    assertThat(applied.refused())
        .extracting(JobTransitions.Refusal::jobId)
        .containsExactly(finished);
    assertThat(row(a).getFreeAttempts()).isZero();
    assertThat(row(b).getFreeAttempts()).isEqualTo(1);
    assertThat(row(b).getFailureReason()).isEqualTo("dispatch not acknowledged");
    assertThat(row(b).getWorkerId()).isNull();
  }

  @Test
  void aLateResultOfAnAttemptFromBeforeARetryByHandChangesNothing() {
    String id = aJob(JobStatus.FAILED, 3);
    assertThat(
            transitions
                .apply(Transition.RETRY_BY_HAND, List.of(JobTransitions.Move.of(id)), NOW)
                .movedIds())
        .containsExactly(id);

    for (Transition t : List.of(Transition.FINISH, Transition.FAIL, Transition.RETRY)) {
      JobTransitions.Applied applied = transitions.apply(t, List.of(move(id, 3)), NOW);
      assertThat(applied.moved()).as("%s", t).isEmpty();
    }
    assertThat(row(id).getStatus()).isEqualTo("pending");
    assertThat(row(id).getBudgetStartAttempt()).isEqualTo(3);
  }

  @Test
  void theDatabaseRefusesAStatusTheStateMachineDoesNotKnow() {
    String id = aJob(JobStatus.PENDING, 0);

    assertThatThrownBy(
            () -> db.update(JOBS).set(JOBS.STATUS, "paused").where(JOBS.ID.eq(id)).execute())
        .hasMessageContaining("jobs_status_known");
  }

  /** A move carrying every value some transition writes. */
  private static JobTransitions.Move move(String id, int attempt) {
    return JobTransitions.Move.at(id, attempt)
        .because("why")
        .runAt(NOW.plusSeconds(5))
        .ran(1, NOW.minusSeconds(10), NOW.minusSeconds(1))
        .on("worker-1", "inc-1")
        .inEpoch(0);
  }

  private static String aJob(JobStatus status, int attempt) {
    String id = "job-" + status.wire() + "-" + seq.incrementAndGet();
    db.insertInto(JOBS)
        .set(JOBS.ID, id)
        .set(JOBS.COMMAND, "true")
        .set(JOBS.STATUS, status.wire())
        .set(JOBS.ATTEMPT, attempt)
        .set(JOBS.MAX_RETRIES, 5)
        .set(JOBS.WORKER_ID, status == JobStatus.RUNNING ? "worker-0" : null)
        .set(JOBS.CREATED_AT, NOW.minusMinutes(1))
        .set(JOBS.RUN_AT, NOW.minusMinutes(1))
        .set(JOBS.FINISHED_AT, status.isTerminal() ? NOW.minusSeconds(30) : null)
        .execute();
    return id;
  }

  private static JobsRecord row(String id) {
    return db.selectFrom(JOBS).where(JOBS.ID.eq(id)).fetchSingle();
  }

  /** The status field of each lifecycle event written for the job. */
  private static List<String> eventsOf(String id) {
    return db.select(OUTBOX.PAYLOAD)
        .from(OUTBOX)
        .where(OUTBOX.MSG_KEY.eq(id))
        .orderBy(OUTBOX.ID)
        .fetch(
            r -> {
              String json = new String(r.value1(), StandardCharsets.UTF_8);
              java.util.regex.Matcher m =
                  java.util.regex.Pattern.compile("\"status\":\"[a-z]+\"").matcher(json);
              return m.find() ? m.group() : json;
            });
  }
}
