package io.workron.worker.jobs;

import io.workron.schemas.JobDispatch;
import io.workron.schemas.WorkerHeartbeat.RunningAttempt;

/** One attempt of one job: what the scheduler fences every message on. */
record Attempt(String jobId, int attempt) {

  static Attempt of(JobDispatch dispatch) {
    return new Attempt(dispatch.jobId(), dispatch.attempt());
  }

  RunningAttempt toWire() {
    return new RunningAttempt(jobId, attempt);
  }

  @Override
  public String toString() {
    return "job_id=" + jobId + " attempt=" + attempt;
  }
}
