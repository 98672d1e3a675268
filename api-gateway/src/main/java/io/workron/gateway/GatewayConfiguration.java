package io.workron.gateway;

import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.micrometer.tagged.TaggedBulkheadMetrics;
import io.github.resilience4j.micrometer.tagged.TaggedCircuitBreakerMetrics;
import io.github.resilience4j.micrometer.tagged.TaggedRetryMetrics;
import io.github.resilience4j.retry.RetryRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Beans every feature of the gateway shares: time, wire contracts, and the resilience registries.
 */
@Configuration(proxyBeanMethods = false)
class GatewayConfiguration {

  private static final Logger log = LoggerFactory.getLogger(GatewayConfiguration.class);

  @Bean
  Clock clock() {
    return Clock.systemUTC();
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

  /**
   * Breakers are created by the features that own them; this registry publishes their state and
   * call outcomes to Micrometer and logs every state change, which is when clients start or stop
   * getting 503.
   */
  @Bean
  CircuitBreakerRegistry circuitBreakerRegistry(MeterRegistry meters) {
    CircuitBreakerRegistry registry = CircuitBreakerRegistry.ofDefaults();
    registry.getEventPublisher().onEntryAdded(added -> logTransitions(added.getAddedEntry()));
    TaggedCircuitBreakerMetrics.ofCircuitBreakerRegistry(registry).bindTo(meters);
    return registry;
  }

  @Bean
  BulkheadRegistry bulkheadRegistry(MeterRegistry meters) {
    BulkheadRegistry registry = BulkheadRegistry.ofDefaults();
    TaggedBulkheadMetrics.ofBulkheadRegistry(registry).bindTo(meters);
    return registry;
  }

  @Bean
  RetryRegistry retryRegistry(MeterRegistry meters) {
    RetryRegistry registry = RetryRegistry.ofDefaults();
    TaggedRetryMetrics.ofRetryRegistry(registry).bindTo(meters);
    return registry;
  }

  private static void logTransitions(CircuitBreaker breaker) {
    breaker
        .getEventPublisher()
        .onStateTransition(
            event -> {
              switch (event.getStateTransition().getToState()) {
                case OPEN, FORCED_OPEN ->
                    log.warn(
                        "circuit breaker {} opened: calls to it answer 503 at once until it lets"
                            + " a trial call through",
                        breaker.getName());
                case HALF_OPEN ->
                    log.info("circuit breaker {} half-open: trying a few calls", breaker.getName());
                case CLOSED ->
                    log.info("circuit breaker {} closed: calls flow again", breaker.getName());
                default ->
                    log.info(
                        "circuit breaker {}: {}", breaker.getName(), event.getStateTransition());
              }
            });
  }
}
