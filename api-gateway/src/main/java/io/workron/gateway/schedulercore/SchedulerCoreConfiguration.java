package io.workron.gateway.schedulercore;

import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.bulkhead.BulkheadRegistry;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.retry.RetryConfig;
import io.github.resilience4j.retry.RetryRegistry;
import io.workron.gateway.GatewayProperties;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import tools.jackson.databind.json.JsonMapper;

@Configuration(proxyBeanMethods = false)
class SchedulerCoreConfiguration {

  @Bean
  SchedulerCoreClient schedulerCoreClient(
      GatewayProperties properties,
      CircuitBreakerRegistry breakers,
      RetryRegistry retries,
      BulkheadRegistry bulkheads,
      ScheduledExecutorService retryTimer,
      JsonMapper mapper,
      // the shared token scheduler-core's internal API asks for (WORKRON_INTERNAL_API_TOKEN)
      @Value("${workron.internal-api.token:}") String internalToken) {
    Duration timeout = properties.queryTimeout();
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(timeout)
            .build();
    return new SchedulerCoreClient(
        http,
        properties.schedulerUrl(),
        breakers.circuitBreaker(SchedulerCoreClient.NAME, breakerConfig(properties)),
        retries.retry(SchedulerCoreClient.NAME, retryConfig()),
        bulkheads.bulkhead(SchedulerCoreClient.NAME, bulkheadConfig(properties)),
        retryTimer,
        mapper,
        timeout,
        internalToken);
  }

  /**
   * Opens when half of the last 20 calls (at least 5) failed to get an answer: unreachable, slower
   * than their timeout, or 5xx. 404 and other client errors are answers, and calls the bulkhead
   * turned away were never made, so neither counts. Stays open for the Retry-After period.
   */
  static CircuitBreakerConfig breakerConfig(GatewayProperties properties) {
    return CircuitBreakerConfig.custom()
        .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
        .slidingWindowSize(20)
        .minimumNumberOfCalls(5)
        .failureRateThreshold(50)
        .waitDurationInOpenState(properties.retryAfter())
        .permittedNumberOfCallsInHalfOpenState(2)
        .recordException(SchedulerCoreClient::isFailure)
        .build();
  }

  /**
   * Reads are safe to repeat, but only a refused connection is retried: it fails at once (a replica
   * restarting behind a service address), so the retry costs the client nothing, whereas a timeout
   * already spent the client's patience.
   */
  static RetryConfig retryConfig() {
    return RetryConfig.custom()
        .maxAttempts(2)
        .waitDuration(Duration.ofMillis(50))
        .retryOnException(SchedulerCoreClient::isRefusedConnection)
        .build();
  }

  /** At most this many calls at once; one more is answered 503 at once. */
  static BulkheadConfig bulkheadConfig(GatewayProperties properties) {
    return BulkheadConfig.custom()
        .maxConcurrentCalls(properties.maxConcurrentSchedulerCalls())
        .maxWaitDuration(Duration.ZERO)
        .build();
  }

  /** Waits before the one retry of a refused connection; never runs a call itself. */
  @Bean(destroyMethod = "shutdownNow")
  ScheduledExecutorService schedulerCoreRetryTimer() {
    return Executors.newSingleThreadScheduledExecutor(
        r -> {
          Thread t = new Thread(r, "scheduler-core-retry");
          t.setDaemon(true);
          return t;
        });
  }
}
