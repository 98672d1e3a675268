package io.workron.worker;

import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import io.workron.kafka.JobTraces;
import io.workron.schemas.JobResult;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import io.workron.worker.execution.CommandRunner;
import io.workron.worker.execution.ProcessLedger;
import java.security.SecureRandom;
import java.time.Clock;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** The worker's shared building blocks: time, wire format, topic names, identity, the runner. */
@Configuration(proxyBeanMethods = false)
class WorkerConfiguration {

  @Bean
  Clock clock() {
    return Clock.systemUTC();
  }

  /** The attempt's span, carried by hand from the dispatch to the result and the process. */
  @Bean
  JobTraces jobTraces(ObjectProvider<Tracer> tracer, ObjectProvider<Propagator> propagator) {
    return JobTraces.of(tracer, propagator);
  }

  @Bean
  WireCodec wireCodec() {
    return new WireCodec();
  }

  /** Topic names under {@code workron.topic-prefix}, the key every Workron service shares. */
  @Bean
  Topics topics(@Value("${workron.topic-prefix:" + Topics.DEFAULT_PREFIX + "}") String prefix) {
    return new Topics(prefix);
  }

  /** A stable worker id, and a new incarnation for every start of this application context. */
  @Bean
  WorkerIdentity workerIdentity(WorkerProperties properties, Clock clock) {
    return WorkerIdentity.forStart(
        properties.id(), System.getenv(), properties.stateDirectory(), clock, new SecureRandom());
  }

  /** The process groups this worker started, kept per worker id in the state dir. */
  @Bean
  ProcessLedger processLedger(WorkerProperties properties, WorkerIdentity identity) {
    return new ProcessLedger(
        properties.stateDirectory().resolve("processes-" + identity.workerId()));
  }

  @Bean
  CommandRunner commandRunner(WorkerProperties properties, Clock clock, ProcessLedger ledger) {
    return new CommandRunner(
        clock,
        properties.workingDirectory(),
        JobResult.MAX_OUTPUT_BYTES,
        ledger,
        properties.stopGrace());
  }
}
