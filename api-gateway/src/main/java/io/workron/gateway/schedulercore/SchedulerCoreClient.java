package io.workron.gateway.schedulercore;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.retry.Retry;
import io.workron.gateway.http.InvalidRequestException;
import io.workron.gateway.http.UnavailableException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.springframework.web.util.UriComponentsBuilder;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * scheduler-core's internal query API, as the gateway's features use it. Every call is
 * asynchronous: a request waiting for scheduler-core holds no web-server thread.
 *
 * <p>Every call is bounded twice. The {@code scheduler-core} bulkhead admits a fixed number of
 * calls at once (waits for ingestion are bounded by the submissions admitted instead), so a burst
 * of reads is answered 503 quickly instead of queueing in the gateway; and the {@code
 * scheduler-core} circuit breaker sees only calls that were actually made, each with its own
 * timeout. It counts a call as failed only when scheduler-core could not be reached, did not answer
 * in time, or answered 5xx, so the breaker opens for real unavailability and never because the
 * gateway queued its own requests. Any of those becomes an {@link UnavailableException} (503).
 */
public final class SchedulerCoreClient {

  static final String NAME = "scheduler-core";

  /** What scheduler-core reported about a set of job ids. */
  public record Existence(
      List<String> existing, List<String> missing, boolean caughtUp, List<String> cycle) {}

  private final HttpClient http;
  private final URI base;
  private final CircuitBreaker breaker;
  private final Retry retry;
  private final Bulkhead bulkhead;
  private final ScheduledExecutorService retryTimer;
  private final JsonMapper mapper;
  private final Duration timeout;
  private final String internalToken;

  /** The header naming the caller's token to scheduler-core, for its audit events. */
  public static final String ACTOR_HEADER = "X-Workron-Actor";

  /** MDC key of the caller's token name while a request is served (logs and the actor header). */
  public static final String ACTOR_MDC_KEY = "token_name";

  SchedulerCoreClient(
      HttpClient http,
      URI base,
      CircuitBreaker breaker,
      Retry retry,
      Bulkhead bulkhead,
      ScheduledExecutorService retryTimer,
      JsonMapper mapper,
      Duration timeout,
      String internalToken) {
    this.http = http;
    this.internalToken = internalToken.strip();
    this.base = base;
    this.breaker = breaker;
    this.retry = retry;
    this.bulkhead = bulkhead;
    this.retryTimer = retryTimer;
    this.mapper = mapper;
    this.timeout = timeout;
  }

  /** The job's JSON exactly as scheduler-core serves it, or empty when it does not know the id. */
  public CompletableFuture<Optional<byte[]>> job(String id) {
    return get(uri("/internal/jobs/{id}", Map.of("id", id)), "GET job")
        .thenApply(r -> r.statusCode() == 404 ? Optional.<byte[]>empty() : Optional.of(r.body()));
  }

  /**
   * The job's last checkpoint bytes (an empty array when it has none), or empty for an unknown id.
   */
  public CompletableFuture<Optional<byte[]>> checkpoint(String id) {
    return get(uri("/internal/jobs/{id}/checkpoint", Map.of("id", id)), "GET checkpoint")
        .thenApply(
            r ->
                r.statusCode() == 404
                    ? Optional.<byte[]>empty()
                    : Optional.of(
                        r.statusCode() == 204 || r.body() == null ? new byte[0] : r.body()));
  }

  /** The gang's tasks by index as scheduler-core serves them, or empty for an unknown gang. */
  public CompletableFuture<Optional<byte[]>> gang(String id, boolean summary) {
    return get(
            uri("/internal/gangs/{id}" + (summary ? "/summary" : ""), Map.of("id", id)),
            summary ? "GET gang summary" : "GET gang")
        .thenApply(r -> r.statusCode() == 404 ? Optional.<byte[]>empty() : Optional.of(r.body()));
  }

  /** Cancels every task of a gang ({@code POST /internal/gangs/{id}/cancel}); idempotent. */
  public CompletableFuture<Answer> cancelGang(String id, String reason) {
    Map<String, Object> body = new LinkedHashMap<>();
    if (reason != null) {
      body.put("reason", reason);
    }
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri("/internal/gangs/{id}/cancel", Map.of("id", id)))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(mapper.writeValueAsBytes(body)));
    return call(request, Duration.ZERO, "POST gang cancel", true)
        .thenApply(r -> new Answer(r.statusCode(), parse(r, "POST gang cancel"), r.body()));
  }

  /**
   * The last {@code minutes} minutes of ended jobs, per minute ({@code GET /internal/overview}).
   */
  public CompletableFuture<JsonNode> overview(int minutes) {
    return get(uri("/internal/overview?minutes={m}", Map.of("m", minutes)), "GET overview")
        .thenApply(r -> parse(r, "GET /internal/overview"));
  }

  /** The dependency graph around a job (upstream and downstream), or empty for an unknown id. */
  public CompletableFuture<Optional<byte[]>> graph(String id) {
    return get(uri("/internal/jobs/{id}/graph", Map.of("id", id)), "GET graph")
        .thenApply(r -> r.statusCode() == 404 ? Optional.<byte[]>empty() : Optional.of(r.body()));
  }

  /** The job's output tail as scheduler-core serves it (UTF-8 text), or empty for an unknown id. */
  public CompletableFuture<Optional<byte[]>> output(String id) {
    return get(uri("/internal/jobs/{id}/output", Map.of("id", id)), "GET output")
        .thenApply(r -> r.statusCode() == 404 ? Optional.<byte[]>empty() : Optional.of(r.body()));
  }

  /**
   * One page of jobs: {@code query} holds the filters and the order ({@code status}, {@code queue},
   * {@code worker}, {@code id_prefix}, {@code order}), each left out when absent.
   */
  public CompletableFuture<JobPage> jobs(Map<String, String> query, int limit, String cursor) {
    StringBuilder path = new StringBuilder("/internal/jobs?limit={limit}");
    Map<String, Object> values = new HashMap<>();
    values.put("limit", limit);
    query.forEach(
        (name, value) -> {
          path.append('&').append(name).append("={").append(name).append('}');
          values.put(name, value);
        });
    if (cursor != null) {
      path.append("&cursor={cursor}");
      values.put("cursor", cursor);
    }
    return get(uri(path.toString(), values), "GET /internal/jobs")
        .thenApply(
            response -> {
              if (response.statusCode() == 400) {
                // status and limit are checked before the call, so the cursor is what it refused
                throw new InvalidRequestException(
                    "cursor", "cursor is not valid (or no longer valid)");
              }
              JsonNode page = parse(response, "GET /internal/jobs");
              JsonNode jobs = page.path("jobs");
              if (!jobs.isArray()) {
                throw new IllegalStateException("scheduler-core's job page has no \"jobs\" array");
              }
              JsonNode next = page.path("next_cursor");
              String nextCursor =
                  next.isString() && !next.asString().isEmpty() ? next.asString() : null;
              return new JobPage(jobs, nextCursor);
            });
  }

  /** Every worker scheduler-core knows, as a JSON array. */
  public CompletableFuture<JsonNode> workers() {
    return get(uri("/internal/workers", Map.of()), "GET workers")
        .thenApply(r -> parse(r, "GET /internal/workers"));
  }

  /**
   * Drains ({@code drained}) or resumes a worker; the worker as scheduler-core shows it afterwards,
   * or empty when it knows no such worker. Repeating it changes nothing, so a refused connection is
   * retried like a read.
   */
  public CompletableFuture<Optional<JsonNode>> drain(String workerId, boolean drained) {
    URI uri =
        uri("/internal/workers/{id}/" + (drained ? "drain" : "resume"), Map.of("id", workerId));
    return call(
            HttpRequest.newBuilder(uri).POST(HttpRequest.BodyPublishers.noBody()),
            Duration.ZERO,
            drained ? "POST drain" : "POST resume",
            true)
        .thenApply(
            r ->
                r.statusCode() == 404
                    ? Optional.<JsonNode>empty()
                    : Optional.of(parse(r, "POST /internal/workers/{id}")));
  }

  /** scheduler-core's answer to a job control call, its status and body as they came. */
  public record Answer(int status, JsonNode body, byte[] raw) {}

  /**
   * Cancels a job ({@code POST /internal/jobs/{id}/cancel}); with {@code submittedBefore},
   * scheduler-core first waits up to {@code wait} for ingestion to reach those offsets, so that a
   * job accepted moments ago is found. Repeating a cancel changes nothing more, so a refused
   * connection is retried.
   */
  public CompletableFuture<Answer> cancel(
      String id, String reason, Map<Integer, Long> submittedBefore, Duration wait) {
    Map<String, Object> body = new LinkedHashMap<>();
    if (reason != null) {
      body.put("reason", reason);
    }
    if (submittedBefore != null) {
      body.put("submitted_before", submittedBefore);
      body.put("wait_ms", wait.toMillis());
    }
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri("/internal/jobs/{id}/cancel", Map.of("id", id)))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(mapper.writeValueAsBytes(body)));
    return call(request, wait, "POST cancel", true)
        .thenApply(r -> new Answer(r.statusCode(), parse(r, "POST cancel"), r.body()));
  }

  /**
   * One call of scheduler-core's schedule API ({@code /internal/schedules…}), answered as it came.
   * Only a refused connection is retried (nothing was sent).
   */
  public CompletableFuture<Answer> schedules(
      String method, String path, Map<String, ?> values, byte[] body) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri("/internal/schedules" + path, values))
            .header("Content-Type", "application/json")
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(body));
    return call(request, Duration.ZERO, method + " schedules", true)
        .thenApply(
            r ->
                new Answer(
                    r.statusCode(),
                    r.body() == null || r.body().length == 0
                        ? mapper.createObjectNode()
                        : parse(r, method + " schedules"),
                    r.body()));
  }

  /**
   * One call of scheduler-core's dead-letter API ({@code /internal/dead-letters…}), answered as it
   * came. Only a refused connection is retried (nothing was sent), so a replay is never sent twice
   * by the gateway.
   */
  public CompletableFuture<Answer> deadLetters(String method, String path, Map<String, ?> values) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri("/internal/dead-letters" + path, values))
            .method(method, HttpRequest.BodyPublishers.noBody());
    // reading dead letters takes a consumer's fetch; a replay waits for the broker's ack (30 s)
    Duration wait = method.equals("GET") ? Duration.ofSeconds(12) : Duration.ofSeconds(35);
    return call(request, wait, method + " dead-letters", true)
        .thenApply(r -> new Answer(r.statusCode(), parse(r, method + " dead-letters"), r.body()));
  }

  /** Every queue, with its limits, pause and counts per status, as a JSON array. */
  public CompletableFuture<JsonNode> queues() {
    return get(uri("/internal/queues", Map.of()), "GET queues")
        .thenApply(r -> parse(r, "GET /internal/queues"));
  }

  /** Sets a queue's limits (null: none); the queue as scheduler-core shows it afterwards. */
  public CompletableFuture<Answer> setQueueLimits(
      String name, Integer maxRunning, Integer maxRunningPerKey) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("max_running", maxRunning);
    body.put("max_running_per_key", maxRunningPerKey);
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri("/internal/queues/{name}", Map.of("name", name)))
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofByteArray(mapper.writeValueAsBytes(body)));
    return call(request, Duration.ZERO, "PUT queue", true)
        .thenApply(r -> new Answer(r.statusCode(), parse(r, "PUT queue"), r.body()));
  }

  /** Pauses ({@code paused}) or resumes a queue; idempotent, so retried like a read. */
  public CompletableFuture<Answer> pauseQueue(String name, boolean paused) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(
                uri(
                    "/internal/queues/{name}/" + (paused ? "pause" : "resume"),
                    Map.of("name", name)))
            .POST(HttpRequest.BodyPublishers.noBody());
    return call(request, Duration.ZERO, paused ? "POST pause" : "POST resume", true)
        .thenApply(r -> new Answer(r.statusCode(), parse(r, "POST queue action"), r.body()));
  }

  /**
   * Retries a failed or cancelled job by hand ({@code POST /internal/jobs/{id}/retry}). A refused
   * connection is retried like any call (nothing was sent).
   */
  public CompletableFuture<Answer> retry(String id, boolean cascade) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(
                uri(
                    "/internal/jobs/{id}/retry?cascade={cascade}",
                    Map.of("id", id, "cascade", cascade)))
            .POST(HttpRequest.BodyPublishers.noBody());
    return call(request, Duration.ZERO, "POST retry", true)
        .thenApply(r -> new Answer(r.statusCode(), parse(r, "POST retry"), r.body()));
  }

  /**
   * Which of {@code ids} are stored, in one call. With {@code submittedBefore} (partition to end
   * offset of the submissions topic), scheduler-core first waits up to {@code wait} for ingestion
   * to handle everything before those offsets, and {@link Existence#caughtUp()} tells whether it
   * did. With {@code jobId}, {@link Existence#cycle()} is the cycle that job would close.
   */
  public CompletableFuture<Existence> existing(
      Collection<String> ids, String jobId, Map<Integer, Long> submittedBefore, Duration wait) {
    Map<String, Object> query = new LinkedHashMap<>();
    query.put("ids", List.copyOf(ids));
    query.put("job_id", jobId);
    query.put("submitted_before", submittedBefore);
    query.put("wait_ms", wait.toMillis());
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri("/internal/jobs/existing", Map.of()))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(mapper.writeValueAsBytes(query)));
    return call(request, wait, "POST existing", true)
        .thenApply(
            response -> {
              JsonNode body = parse(response, "POST /internal/jobs/existing");
              if (response.statusCode() != 200) {
                throw new IllegalStateException(
                    "scheduler-core refused an existence query (" + response.statusCode() + ")");
              }
              return new Existence(
                  strings(body.path("existing")),
                  strings(body.path("missing")),
                  body.path("caught_up").asBoolean(false),
                  strings(body.path("cycle")));
            });
  }

  /**
   * Completes with the stored job once scheduler-core has ingested the submission at {@code offset}
   * of {@code partition}, or empty when it has not within {@code wait} (or refused it). Holds no
   * gateway thread while it waits. Fails when scheduler-core cannot answer; the caller decides what
   * that means (the job is safe in Kafka either way).
   */
  public CompletableFuture<Optional<byte[]>> awaitStored(
      String id, int partition, long offset, Duration wait) {
    Map<String, Object> values = new HashMap<>();
    values.put("id", id);
    values.put("partition", partition);
    values.put("offset", offset);
    values.put("wait", wait.toMillis());
    HttpRequest.Builder request =
        HttpRequest.newBuilder(
                uri(
                    "/internal/jobs/{id}/stored?partition={partition}&offset={offset}"
                        + "&wait_ms={wait}",
                    values))
            .GET();
    // bounded by the submissions the gateway admits, not by the bulkhead of calls
    return call(request, wait, "GET stored", false)
        .thenApply(r -> r.statusCode() == 200 ? Optional.of(r.body()) : Optional.<byte[]>empty());
  }

  /**
   * Whether the breaker should count {@code e}: scheduler-core unreachable, too slow or failing.
   * Answers such as 404 or 400 are not failures.
   */
  static boolean isFailure(Throwable e) {
    Throwable t = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    return t instanceof Unreachable || t instanceof Failed;
  }

  /** Reads are safe to repeat; only a refused connection is retried, because it fails at once. */
  static boolean isRefusedConnection(Throwable e) {
    return e instanceof Unreachable u && u.getCause() instanceof java.net.ConnectException;
  }

  private CompletableFuture<HttpResponse<byte[]>> get(URI uri, String what) {
    return call(HttpRequest.newBuilder(uri).GET(), Duration.ZERO, what, true);
  }

  /**
   * Makes one call, asynchronously: through the bulkhead (when {@code bulkheaded}; a full bulkhead
   * fails at once), the retry of a refused connection and the breaker, within {@code wait} plus the
   * query timeout for the whole exchange. Fails with an {@link UnavailableException} when
   * scheduler-core did not answer properly.
   */
  private CompletableFuture<HttpResponse<byte[]>> call(
      HttpRequest.Builder request, Duration wait, String what, boolean bulkheaded) {
    Duration limit = wait.plus(timeout);
    // scheduler-core's log lines for this call carry the same request_id
    String requestId = org.slf4j.MDC.get(io.workron.gateway.http.RequestId.MDC_KEY);
    if (requestId != null) {
      request.header(io.workron.gateway.http.RequestId.HEADER, requestId);
    }
    String actor = org.slf4j.MDC.get(ACTOR_MDC_KEY);
    request.header(ACTOR_HEADER, actor != null ? actor : "anonymous");
    if (!internalToken.isEmpty()) {
      request.header("Authorization", "Bearer " + internalToken);
    }
    HttpRequest built = request.timeout(limit).build();
    if (bulkheaded && !bulkhead.tryAcquirePermission()) {
      return CompletableFuture.failedFuture(
          new UnavailableException(
              NAME,
              "the gateway already has "
                  + bulkhead.getBulkheadConfig().getMaxConcurrentCalls()
                  + " calls to scheduler-core in flight; try again shortly",
              null));
    }
    Supplier<CompletionStage<HttpResponse<byte[]>>> exchange =
        () ->
            http.sendAsync(built, HttpResponse.BodyHandlers.ofByteArray())
                .orTimeout(limit.toMillis(), TimeUnit.MILLISECONDS)
                .handle(SchedulerCoreClient::checked);
    CompletableFuture<HttpResponse<byte[]>> result =
        Retry.decorateCompletionStage(
                retry, retryTimer, CircuitBreaker.decorateCompletionStage(breaker, exchange))
            .get()
            .toCompletableFuture()
            .handle(
                (response, failure) -> {
                  if (failure == null) {
                    return response;
                  }
                  throw unavailable(failure, what, limit);
                });
    if (bulkheaded) {
      result.whenComplete((response, failure) -> bulkhead.onComplete());
    }
    return result;
  }

  private static RuntimeException unavailable(Throwable failure, String what, Duration limit) {
    Throwable e =
        failure instanceof CompletionException && failure.getCause() != null
            ? failure.getCause()
            : failure;
    if (e instanceof CallNotPermittedException) {
      return new UnavailableException(
          NAME, "scheduler-core has been failing; the gateway is not calling it for a while", e);
    }
    if (e instanceof Unreachable) {
      return new UnavailableException(
          NAME,
          "scheduler-core could not be reached or did not answer "
              + what
              + " within "
              + limit.toMillis()
              + " ms",
          e);
    }
    if (e instanceof Failed f) {
      return new UnavailableException(
          NAME, "scheduler-core failed to answer " + what + " (" + f.status + ")", e);
    }
    return e instanceof RuntimeException r ? r : new IllegalStateException(e);
  }

  /** A response, or the failure that stands for "scheduler-core did not answer properly". */
  private static HttpResponse<byte[]> checked(HttpResponse<byte[]> response, Throwable failure) {
    if (failure != null) {
      Throwable cause =
          failure instanceof CompletionException && failure.getCause() != null
              ? failure.getCause()
              : failure;
      if (cause instanceof Unreachable u) {
        throw u;
      }
      if (cause instanceof IOException || cause instanceof TimeoutException) {
        throw new Unreachable(cause);
      }
      throw new IllegalStateException("calling scheduler-core failed unexpectedly", cause);
    }
    if (response.statusCode() >= 500) {
      throw new Failed(response.statusCode());
    }
    if (response.statusCode() == 401) {
      // a configuration error, not the client's: every call fails until it is fixed
      throw new IllegalStateException(
          "scheduler-core refused the internal API token: set the same"
              + " WORKRON_INTERNAL_API_TOKEN on the gateway and on scheduler-core");
    }
    return response;
  }

  private URI uri(String path, Map<String, ?> values) {
    return UriComponentsBuilder.fromUri(base)
        .path(path.contains("?") ? path.substring(0, path.indexOf('?')) : path)
        .query(path.contains("?") ? path.substring(path.indexOf('?') + 1) : null)
        .encode()
        .buildAndExpand(values)
        .toUri();
  }

  private JsonNode parse(HttpResponse<byte[]> response, String what) {
    byte[] body = response.body();
    if (body == null || body.length == 0) {
      throw new IllegalStateException("scheduler-core answered " + what + " with an empty body");
    }
    try {
      return mapper.readTree(body);
    } catch (JacksonException e) {
      throw new IllegalStateException("scheduler-core answered " + what + " with invalid JSON", e);
    }
  }

  private static List<String> strings(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asString()));
    return out;
  }

  /** scheduler-core could not be reached, or did not answer within the call's limit. */
  static final class Unreachable extends RuntimeException {
    Unreachable(Throwable cause) {
      super(cause.toString(), cause);
    }
  }

  /** scheduler-core answered with a 5xx. */
  static final class Failed extends RuntimeException {
    final int status;

    Failed(int status) {
      super("scheduler-core answered " + status);
      this.status = status;
    }
  }
}
