package io.workron.gateway;

import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.net.URI;
import java.time.Duration;
import org.hibernate.validator.constraints.time.DurationMin;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * How api-gateway reaches its two dependencies and how long it waits for them. Every duration is a
 * promise to the REST client: the gateway answers (201, 202 or 503) within about these bounds.
 *
 * @param schedulerUrl base URL of scheduler-core's internal query API; every read ({@code GET
 *     /jobs}, {@code /workers}) and the dependency checks of {@code POST /jobs} go there.
 * @param createdWait how long {@code POST /jobs} waits, after Kafka acknowledged the submission,
 *     for scheduler-core to report the job stored: stored in time gives 201 with the job, otherwise
 *     202 with {@code {"id":…,"status":"accepted"}}. Zero answers 202 at once; longer values make
 *     more answers 201 at the cost of slower responses while scheduler-core lags behind.
 * @param queryTimeout connect and read timeout of each call to scheduler-core; a call that takes
 *     longer counts as a failure for the {@code scheduler-core} circuit breaker and gives 503.
 * @param produceTimeout how long a submission may wait for the broker's acknowledgement ({@code
 *     acks=all}) before the gateway answers 503. Keep the producer's {@code max.block.ms} and
 *     {@code delivery.timeout.ms} at or below this value, or a down broker makes requests wait for
 *     the producer instead.
 * @param retryAfter value of the {@code Retry-After} header on 503 answers, and how long an open
 *     circuit breaker refuses calls before it lets a few through to test the dependency again.
 * @param maxConcurrentSubmissions how many {@code POST /jobs} may be in progress at once (a
 *     submission waiting for scheduler-core to store it holds no thread, so this is not bounded by
 *     the web server's threads). One more is answered 429 with {@code Retry-After} at once, before
 *     anything is written to Kafka.
 * @param maxConcurrentSchedulerCalls how many reads, look-ups and dependency checks may be calling
 *     scheduler-core at once; one more is answered 503 with {@code Retry-After} at once. Keeps a
 *     burst of requests from piling up on scheduler-core (whose database pool serves 20 at a time
 *     by default) until everything times out.
 */
@Validated
@ConfigurationProperties("workron.gateway")
public record GatewayProperties(
    @NotNull @DefaultValue("http://localhost:8081") URI schedulerUrl,
    @NotNull @DurationMin(millis = 0) @DefaultValue("2s") Duration createdWait,
    @NotNull @DurationMin(millis = 1) @DefaultValue("1500ms") Duration queryTimeout,
    @NotNull @DurationMin(millis = 1) @DefaultValue("1500ms") Duration produceTimeout,
    @NotNull @DurationMin(seconds = 1) @DefaultValue("5s") Duration retryAfter,
    @Min(1) @DefaultValue("1000") int maxConcurrentSubmissions,
    @Min(1) @DefaultValue("256") int maxConcurrentSchedulerCalls) {

  /** {@link #retryAfter} in whole seconds, rounded up, as the {@code Retry-After} header wants. */
  public long retryAfterSeconds() {
    long seconds = retryAfter.toSeconds();
    return retryAfter.equals(Duration.ofSeconds(seconds)) ? seconds : seconds + 1;
  }
}
