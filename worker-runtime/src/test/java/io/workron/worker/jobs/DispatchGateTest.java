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

  private static JobDispatch dispatch(
      String jobId, int attempt, String worker, String incarnation) {
    return new JobDispatch(jobId, attempt, worker, incarnation, "true", null, null);
  }
}
