package io.workron.gateway.schedulercore;

import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import io.github.resilience4j.retry.RetryConfig;
import io.github.resilience4j.retry.RetryRegistry;
import io.workron.gateway.GatewayProperties;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.time.Duration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.client.JdkClientHttpRequestFactory;
import org.springframework.web.client.HttpServerErrorException;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;
import tools.jackson.databind.json.JsonMapper;

@Configuration(proxyBeanMethods = false)
class SchedulerCoreConfiguration {

  @Bean
  SchedulerCoreClient schedulerCoreClient(
      GatewayProperties properties,
      RestClient.Builder builder,
      CircuitBreakerRegistry breakers,
      RetryRegistry retries,
      JsonMapper mapper) {
    Duration timeout = properties.queryTimeout();
    HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(timeout)
            .build();
    JdkClientHttpRequestFactory factory = new JdkClientHttpRequestFactory(http);
    factory.setReadTimeout(timeout);
    RestClient rest =
        builder.baseUrl(properties.schedulerUrl().toString()).requestFactory(factory).build();
    return new SchedulerCoreClient(
        rest,
        breakers.circuitBreaker(SchedulerCoreClient.NAME, breakerConfig(properties)),
        retries.retry(SchedulerCoreClient.NAME, retryConfig()),
        mapper,
        timeout);
  }

  /**
   * Opens when half of the last 20 calls (at least 5) failed to get an answer; 404 and other client
   * errors are answers, not failures. Stays open for the Retry-After period.
   */
  static CircuitBreakerConfig breakerConfig(GatewayProperties properties) {
    return CircuitBreakerConfig.custom()
        .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
        .slidingWindowSize(20)
        .minimumNumberOfCalls(5)
        .failureRateThreshold(50)
        .waitDurationInOpenState(properties.retryAfter())
        .permittedNumberOfCallsInHalfOpenState(2)
        .recordException(
            e -> e instanceof ResourceAccessException || e instanceof HttpServerErrorException)
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
        .retryOnException(
            e -> e instanceof ResourceAccessException && e.getCause() instanceof ConnectException)
        .build();
  }
}
