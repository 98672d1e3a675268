package io.workron.scheduler.config;

import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import io.workron.kafka.JobTraces;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import java.time.Clock;
import java.util.random.RandomGenerator;
import org.apache.kafka.clients.admin.NewTopic;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.config.TopicBuilder;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.kafka.listener.CommonErrorHandler;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.util.backoff.ExponentialBackOff;

/** Shared beans of scheduler-core: time, randomness, wire codec, topics and their declaration. */
@Configuration(proxyBeanMethods = false)
public class SchedulerConfig {

  @Bean
  Clock clock() {
    return Clock.systemUTC();
  }

  @Bean
  RandomGenerator random() {
    return RandomGenerator.getDefault();
  }

  /** Spans carried by hand through batch listeners, job rows and the outbox relay. */
  @Bean
  JobTraces jobTraces(ObjectProvider<Tracer> tracer, ObjectProvider<Propagator> propagator) {
    return JobTraces.of(tracer, propagator);
  }

  @Bean
  WireCodec wireCodec() {
    return new WireCodec();
  }

  @Bean
  Topics topics(@Value("${workron.topic-prefix:workron}") String prefix) {
    return new Topics(prefix);
  }

  @Bean
  KafkaAdmin.NewTopics workronTopics(Topics topics, SchedulerProperties p) {
    int partitions = p.submissionPartitions();
    short rf = p.replicationFactor();
    return new KafkaAdmin.NewTopics(
        topic(topics.submissions(), partitions, rf),
        topic(Topics.deadLetter(topics.submissions()), 1, rf),
        TopicBuilder.name(topics.results())
            .partitions(partitions)
            .replicas(rf)
            .config("message.timestamp.type", "LogAppendTime")
            .build(),
        topic(Topics.deadLetter(topics.results()), 1, rf),
        TopicBuilder.name(topics.heartbeats())
            .partitions(3)
            .replicas(rf)
            .config("retention.ms", "3600000")
            .config("message.timestamp.type", "LogAppendTime")
            .build(),
        topic(Topics.deadLetter(topics.heartbeats()), 1, rf),
        topic(topics.jobEvents(), partitions, rf));
  }

  private static NewTopic topic(String name, int partitions, short rf) {
    return TopicBuilder.name(name).partitions(partitions).replicas(rf).build();
  }

  /**
   * A poll that cannot be applied for a reason of the environment (PostgreSQL down, a bad deploy,
   * the broker not taking dead letters) is retried, with backoff capped at 10 s, for as long as it
   * takes: its offsets are not committed, so nothing accepted is skipped. Records that cannot be
   * applied for their own data never get here: the listeners' PollApplier dead-letters them.
   */
  @Bean
  CommonErrorHandler kafkaErrorHandler() {
    ExponentialBackOff backOff = new ExponentialBackOff(200, 2.0);
    backOff.setMaxInterval(10_000);
    backOff.setMaxElapsedTime(Long.MAX_VALUE);
    return new DefaultErrorHandler(backOff);
  }
}
