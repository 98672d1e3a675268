package io.workron.gateway.submission;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import io.workron.gateway.GatewayProperties;
import io.workron.gateway.schedulercore.SchedulerCoreClient;
import io.workron.kafka.JobTraces;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.support.ProducerListener;
import tools.jackson.databind.json.JsonMapper;

@Configuration(proxyBeanMethods = false)
class SubmissionConfiguration {

  private static final Logger log = LoggerFactory.getLogger(SubmissionConfiguration.class);

  @Bean
  SubmissionPublisher submissionPublisher(
      KafkaTemplate<String, byte[]> kafka,
      Topics topics,
      WireCodec codec,
      CircuitBreakerRegistry breakers,
      GatewayProperties properties,
      Clock clock,
      ObjectProvider<Tracer> tracer,
      ObjectProvider<Propagator> propagator) {
    return new SubmissionPublisher(
        kafka,
        topics,
        codec,
        breakers.circuitBreaker(SubmissionPublisher.BREAKER, breakerConfig(properties)),
        properties.produceTimeout(),
        clock,
        JobTraces.of(tracer, propagator));
  }

  @Bean
  SubmissionOffsets submissionOffsets(
      KafkaAdmin kafkaAdmin, Topics topics, GatewayProperties properties) {
    return new SubmissionOffsets(
        kafkaAdmin.getConfigurationProperties(), topics, properties.produceTimeout());
  }

  @Bean
  SubmissionIntake submissionIntake(
      JsonMapper mapper,
      SchedulerCoreClient schedulerCore,
      SubmissionPublisher publisher,
      SubmissionOffsets offsets,
      BulkheadRegistry bulkheads,
      @Qualifier("submissionContinuations") ExecutorService continuations,
      Clock clock,
      GatewayProperties properties,
      MeterRegistry meters) {
    Bulkhead admission =
        bulkheads.bulkhead(
            "submissions",
            BulkheadConfig.custom()
                .maxConcurrentCalls(properties.maxConcurrentSubmissions())
                .maxWaitDuration(Duration.ZERO)
                .build());
    return new SubmissionIntake(
        mapper,
        schedulerCore,
        publisher,
        offsets,
        admission,
        continuations,
        clock,
        properties,
        meters);
  }

  /**
   * Where a submission continues once Kafka acknowledged it: never on the producer's single I/O
   * thread, whose every moment delays the acknowledgements of all other submissions. The work per
   * submission is small (start a long-poll, answer), so two threads keep up; the queue is bounded
   * by the submissions admitted.
   */
  @Bean(destroyMethod = "shutdown")
  ExecutorService submissionContinuations() {
    AtomicInteger n = new AtomicInteger();
    return Executors.newFixedThreadPool(
        2,
        r -> {
          Thread t = new Thread(r, "submission-continue-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
  }

  /**
   * Failed sends reach the client as 503 and the operator through the breaker's state changes;
   * Spring Kafka's default listener would log every one again, as an error with a stack trace.
   */
  @Bean
  ProducerListener<Object, Object> kafkaProducerListener() {
    return new ProducerListener<>() {
      @Override
      public void onError(
          ProducerRecord<Object, Object> record, RecordMetadata metadata, Exception exception) {
        log.debug("send of {} failed: {}", record.key(), exception.getMessage());
      }
    };
  }

  /**
   * A down broker costs each request up to the produce timeout; once half of the last ten sends
   * (and at least three) failed, refuse at once for the Retry-After period instead.
   */
  static CircuitBreakerConfig breakerConfig(GatewayProperties properties) {
    return CircuitBreakerConfig.custom()
        .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
        .slidingWindowSize(10)
        .minimumNumberOfCalls(3)
        .failureRateThreshold(50)
        .waitDurationInOpenState(properties.retryAfter())
        .permittedNumberOfCallsInHalfOpenState(1)
        .build();
  }
}
