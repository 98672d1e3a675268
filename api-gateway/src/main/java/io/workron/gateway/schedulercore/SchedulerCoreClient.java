package io.workron.gateway.schedulercore;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.retry.Retry;
import io.workron.gateway.http.InvalidRequestException;
import io.workron.gateway.http.UnavailableException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.springframework.web.client.HttpClientErrorException;
import org.springframework.web.client.HttpServerErrorException;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * scheduler-core's internal query API, as the gateway's features use it. Every call goes through
 * the {@code scheduler-core} circuit breaker and has the query timeout; any way scheduler-core can
 * fail to answer becomes an {@link UnavailableException} (503), never a hung request.
 */
public final class SchedulerCoreClient {

  static final String NAME = "scheduler-core";

  private final RestClient rest;
  private final CircuitBreaker breaker;
  private final Retry retry;
  private final JsonMapper mapper;
  private final Duration timeout;

  SchedulerCoreClient(
      RestClient rest, CircuitBreaker breaker, Retry retry, JsonMapper mapper, Duration timeout) {
    this.rest = rest;
    this.breaker = breaker;
    this.retry = retry;
    this.mapper = mapper;
    this.timeout = timeout;
  }

  /** The job's JSON exactly as scheduler-core serves it, or empty when it does not know the id. */
  public Optional<byte[]> job(String id) {
    return call(
        () -> {
          try {
            byte[] body = rest.get().uri("/internal/jobs/{id}", id).retrieve().body(byte[].class);
            return Optional.ofNullable(body);
          } catch (HttpClientErrorException.NotFound e) {
            return Optional.empty();
          }
        });
  }

  /** One page of jobs, filtered by status when {@code status} is not null. */
  public JobPage jobs(String status, int limit, String cursor) {
    StringBuilder template = new StringBuilder("/internal/jobs?limit={limit}");
    Map<String, Object> values = new HashMap<>();
    values.put("limit", limit);
    if (status != null) {
      template.append("&status={status}");
      values.put("status", status);
    }
    if (cursor != null) {
      template.append("&cursor={cursor}");
      values.put("cursor", cursor);
    }
    byte[] body;
    try {
      body = call(() -> rest.get().uri(template.toString(), values).retrieve().body(byte[].class));
    } catch (HttpClientErrorException.BadRequest e) {
      // status and limit are checked before the call, so the opaque cursor is what it refused
      throw new InvalidRequestException("cursor", "cursor is not valid (or no longer valid)");
    }
    JsonNode page = parse(body, "GET /internal/jobs");
    JsonNode jobs = page.path("jobs");
    if (!jobs.isArray()) {
      throw new IllegalStateException("scheduler-core's job page has no \"jobs\" array");
    }
    JsonNode next = page.path("next_cursor");
    String nextCursor = next.isString() && !next.asString().isEmpty() ? next.asString() : null;
    return new JobPage(jobs, nextCursor);
  }

  /** Every worker scheduler-core knows, as a JSON array. */
  public JsonNode workers() {
    byte[] body = call(() -> rest.get().uri("/internal/workers").retrieve().body(byte[].class));
    return parse(body, "GET /internal/workers");
  }

  private JsonNode parse(byte[] body, String what) {
    if (body == null || body.length == 0) {
      throw new IllegalStateException("scheduler-core answered " + what + " with an empty body");
    }
    try {
      return mapper.readTree(body);
    } catch (JacksonException e) {
      throw new IllegalStateException("scheduler-core answered " + what + " with invalid JSON", e);
    }
  }

  private <T> T call(Supplier<T> call) {
    Supplier<T> guarded =
        Retry.decorateSupplier(retry, CircuitBreaker.decorateSupplier(breaker, call));
    try {
      return guarded.get();
    } catch (CallNotPermittedException e) {
      throw new UnavailableException(
          NAME, "scheduler-core has been failing; the gateway is not calling it for a while", e);
    } catch (ResourceAccessException e) {
      throw new UnavailableException(
          NAME,
          "scheduler-core could not be reached or did not answer within "
              + timeout.toMillis()
              + " ms",
          e);
    } catch (HttpServerErrorException e) {
      throw new UnavailableException(
          NAME, "scheduler-core failed to answer (" + e.getStatusCode().value() + ")", e);
    }
  }
}
