package io.workron.scheduler.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.workron.scheduler.core.Transition;
import io.workron.scheduler.lifecycle.JobTransitions;
import io.workron.scheduler.lifecycle.JobTransitions.Moved;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import org.springframework.stereotype.Component;
import org.springframework.transaction.event.TransactionalEventListener;

/**
 * The seed's job metrics (SEED-BEHAVIOR.md section 12.1), counted from the one state machine: every
 * status change is a {@link JobTransitions.JobsMoved} event, and these meters move only once its
 * transaction has committed, so a rolled-back change is never counted. docs/metrics.md lists them.
 *
 * <ul>
 *   <li>{@code workron_jobs_claimed_total}: attempts started (a dispatch round's claim, a gang
 *       task's reservation);
 *   <li>{@code workron_jobs_completed_total}, {@code workron_jobs_failed_total} (the last attempt
 *       failed), {@code workron_jobs_retried_total} (a failed attempt with attempts left);
 *   <li>{@code workron_jobs_reaped_total{outcome}}: attempts liveness took back, {@code requeued}
 *       or (the last one) {@code failed};
 *   <li>{@code workron_job_queue_wait_seconds}: submission to dispatch of each attempt started;
 *   <li>{@code workron_job_execution_duration_seconds}: start to end of each attempt that
 *       succeeded;
 *   <li>{@code workron_job_transitions_total{transition}}: every change, by name.
 * </ul>
 */
@Component
public class JobMetrics {

  private final Counter claimed;
  private final Counter completed;
  private final Counter failed;
  private final Counter retried;
  private final Counter reapedRequeued;
  private final Counter reapedFailed;
  private final Timer queueWait;
  private final Timer executionDuration;
  private final Map<Transition, Counter> transitions = new EnumMap<>(Transition.class);

  JobMetrics(MeterRegistry meters) {
    claimed = meters.counter("workron_jobs_claimed_total");
    completed = meters.counter("workron_jobs_completed_total");
    failed = meters.counter("workron_jobs_failed_total");
    retried = meters.counter("workron_jobs_retried_total");
    reapedRequeued = meters.counter("workron_jobs_reaped_total", "outcome", "requeued");
    reapedFailed = meters.counter("workron_jobs_reaped_total", "outcome", "failed");
    // the seed's buckets
    queueWait =
        Timer.builder("workron_job_queue_wait_seconds")
            .description("submission to dispatch of each attempt started")
            .serviceLevelObjectives(seconds(0.1, 0.5, 1, 5, 10, 30, 60, 120, 300))
            .register(meters);
    executionDuration =
        Timer.builder("workron_job_execution_duration_seconds")
            .description("start to end of each attempt that succeeded")
            .serviceLevelObjectives(seconds(0.1, 0.5, 1, 5, 10, 30, 60, 300))
            .register(meters);
    for (Transition t : Transition.values()) {
      transitions.put(
          t,
          meters.counter(
              "workron_job_transitions_total", "transition", t.name().toLowerCase(Locale.ROOT)));
    }
  }

  @TransactionalEventListener(fallbackExecution = true)
  void onMoved(JobTransitions.JobsMoved moved) {
    int n = moved.count();
    transitions.get(moved.transition()).increment(n);
    switch (moved.transition()) {
      case CLAIM, RESERVE -> {
        claimed.increment(n);
        for (Moved m : moved.moved()) {
          record(queueWait, m.createdAt(), m.dispatchedAt());
        }
      }
      case FINISH -> {
        completed.increment(n);
        for (Moved m : moved.moved()) {
          record(executionDuration, m.startedAt(), m.finishedAt());
        }
      }
      case FAIL -> failed.increment(n);
      case RETRY -> retried.increment(n);
      case REQUEUE -> reapedRequeued.increment(n);
      case GIVE_UP -> reapedFailed.increment(n);
      default -> {}
    }
  }

  private static void record(Timer timer, OffsetDateTime from, OffsetDateTime to) {
    if (from != null && to != null && !to.isBefore(from)) {
      timer.record(Duration.between(from, to));
    }
  }

  private static Duration[] seconds(double... values) {
    Duration[] out = new Duration[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = Duration.ofMillis(Math.round(values[i] * 1000));
    }
    return out;
  }
}
