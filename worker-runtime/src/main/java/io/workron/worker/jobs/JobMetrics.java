package io.workron.worker.jobs;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.workron.schemas.JobResult;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.springframework.stereotype.Component;

/** The worker's counters. Tags stay low-cardinality: outcome, reason, topic; never a job id. */
@Component
class JobMetrics {

  private final MeterRegistry registry;
  private final Timer spawn;

  JobMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.spawn =
        Timer.builder("workron.worker.process.spawn")
            .description("Time to start a job's process (setsid /bin/sh -c), until the JVM has it")
            .serviceLevelObjectives(
                Duration.ofMillis(1),
                Duration.ofMillis(2),
                Duration.ofMillis(5),
                Duration.ofMillis(10),
                Duration.ofMillis(25),
                Duration.ofMillis(50),
                Duration.ofMillis(100),
                Duration.ofMillis(250),
                Duration.ofSeconds(1))
            .register(registry);
  }

  /** {@code workron_worker_process_spawn_seconds}: one process started, in {@code nanos}. */
  void spawned(long nanos) {
    spawn.record(nanos, TimeUnit.NANOSECONDS);
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
