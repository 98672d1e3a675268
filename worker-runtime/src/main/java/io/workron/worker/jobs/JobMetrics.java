package io.workron.worker.jobs;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.workron.schemas.JobResult;
import org.springframework.stereotype.Component;

/** The worker's counters. Tags stay low-cardinality: outcome, reason, topic; never a job id. */
@Component
class JobMetrics {

  private final MeterRegistry registry;

  JobMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  /** {@code workron_worker_jobs_total{outcome}}: attempts this worker finished and reported. */
  void finished(JobResult.Outcome outcome) {
    Counter.builder("workron.worker.jobs")
        .description("Job attempts this worker ran to an end, by outcome")
        .tag("outcome", outcome.name().toLowerCase(java.util.Locale.ROOT))
        .register(registry)
        .increment();
  }

  /** {@code workron_worker_dispatches_ignored_total{reason}}. */
  void ignored(DispatchGate.Refusal reason) {
    Counter.builder("workron.worker.dispatches.ignored")
        .description("Well-formed dispatches this worker did not run, by reason")
        .tag("reason", reason.tag())
        .register(registry)
        .increment();
  }

  /** {@code workron_dead_letters_total{topic}}: messages moved to the topic's dead-letter topic. */
  void deadLettered(String topic) {
    Counter.builder("workron.dead.letters")
        .description("Messages refused as invalid and sent to a dead-letter topic")
        .tag("topic", topic)
        .register(registry)
        .increment();
  }

  MeterRegistry registry() {
    return registry;
  }
}
