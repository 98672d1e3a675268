package io.workron.worker.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.workron.schemas.JobDispatch;
import io.workron.worker.WorkerIdentity;
import io.workron.worker.jobs.DispatchGate.Refusal;
import org.junit.jupiter.api.Test;

class DispatchGateTest {

  private final WorkerIdentity me = new WorkerIdentity("w1", "incarnation-2");
  private final DispatchGate gate = new DispatchGate(me);

  @Test
  void acceptsADispatchForThisWorkersCurrentIncarnation() {
    assertThat(gate.admit(dispatch("job-1", 1, "w1", "incarnation-2"))).isEmpty();
  }

  @Test
  void ignoresADispatchMeantForThePreviousLifeOfThisWorker() {
    assertThat(gate.admit(dispatch("job-1", 1, "w1", "incarnation-1")))
        .contains(Refusal.OTHER_INCARNATION);
  }

  @Test
  void ignoresADispatchAddressedToAnotherWorker() {
    assertThat(gate.admit(dispatch("job-1", 1, "w2", "incarnation-2")))
        .contains(Refusal.OTHER_WORKER);
  }

  @Test
  void runsARedeliveredAttemptOnlyOnceButANewAttemptOfTheSameJobAgain() {
    assertThat(gate.admit(dispatch("job-1", 1, "w1", "incarnation-2"))).isEmpty();

    assertThat(gate.admit(dispatch("job-1", 1, "w1", "incarnation-2")))
        .contains(Refusal.REDELIVERED);
    assertThat(gate.admit(dispatch("job-1", 2, "w1", "incarnation-2"))).isEmpty();
  }

  @Test
  void neverRunsAnAttemptOlderThanOneAlreadySeenForTheSameJob() {
    assertThat(gate.admit(dispatch("job-1", 3, "w1", "incarnation-2"))).isEmpty();

    assertThat(gate.admit(dispatch("job-1", 2, "w1", "incarnation-2")))
        .contains(Refusal.SUPERSEDED_ATTEMPT);
    assertThat(gate.admit(dispatch("job-2", 1, "w1", "incarnation-2"))).isEmpty();
  }

  @Test
  void aStoppedAttemptThatIsDispatchedAfterItsStopDoesNotRun() {
    gate.stopped(
        new io.workron.schemas.JobStop(
            "job-1", 4, "w1", "incarnation-2", io.workron.schemas.StopCause.TAKEN_BACK, null));

    assertThat(gate.admit(dispatch("job-1", 4, "w1", "incarnation-2")))
        .contains(Refusal.REDELIVERED);
    assertThat(gate.admit(dispatch("job-1", 3, "w1", "incarnation-2")))
        .contains(Refusal.SUPERSEDED_ATTEMPT);
    assertThat(gate.admit(dispatch("job-1", 5, "w1", "incarnation-2"))).isEmpty();
  }

  private static JobDispatch dispatch(
      String jobId, int attempt, String worker, String incarnation) {
    return new JobDispatch(jobId, attempt, worker, incarnation, "true", null, null);
  }
}
