package io.workron.gateway;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * scheduler-core's internal query API as the gateway relies on it: every job id is stored except
 * those starting with {@code job-missing}; ids starting with {@code job-late} are stored only once
 * ingestion is asked to catch up ({@code submitted_before}); a job depending on {@code
 * job-closes-cycle} would close a cycle. One page of jobs with a next cursor, one worker. A cancel
 * of {@code job-running…} is 202 (being stopped), of {@code job-done…} 409, of an id not stored
 * 404, of any other 200.
 */
final class FakeSchedulerCore implements AutoCloseable {

  static final String NEXT_CURSOR = "c2/x+y=";
  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final HttpServer server;
  private final AtomicReference<String> lastListQuery = new AtomicReference<>();
  private final AtomicReference<String> lastCancelRequestId = new AtomicReference<>();
  private final Map<String, String> seen = new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.Set<String> unknown = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private final java.util.concurrent.CountDownLatch storedAnswers;

  private FakeSchedulerCore(HttpServer server, java.util.concurrent.CountDownLatch storedAnswers) {
    this.server = server;
    this.storedAnswers = storedAnswers;
  }

  /**
   * What the last call of a kind brought: {@code "retry query"}, {@code "queue body"}, {@code
   * "queue method"}, {@code "cancel reason"}, {@code "cancel actor"} (its X-Workron-Actor), {@code
   * "cancel authorization"}; null when none came.
   */
  String seen(String what) {
    return seen.get(what);
  }

  /** The {@code X-Request-ID} the last cancel came with, or null. */
  String lastCancelRequestId() {
    return lastCancelRequestId.get();
  }

  static FakeSchedulerCore start() {
    return start(new java.util.concurrent.CountDownLatch(0));
  }

  /**
   * A scheduler-core whose answers to "is it stored yet?" wait until {@code storedAnswers} is
   * counted down, as a slow ingestion would, so that submissions stay in progress meanwhile.
   */
  static FakeSchedulerCore start(java.util.concurrent.CountDownLatch storedAnswers) {
    try {
      HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
      FakeSchedulerCore fake = new FakeSchedulerCore(server, storedAnswers);
      // the answers have the shapes scheduler-core gives (api-gateway/openapi.json), since the
      // gateway relays them and the tests check what it relays against the document
      server.createContext("/internal/jobs", fake::jobs);
      server.createContext(
          "/internal/schedules",
          exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            if (exchange.getRequestMethod().equals("DELETE")) {
              exchange.sendResponseHeaders(204, -1);
              exchange.close();
            } else {
              tools.jackson.databind.node.ObjectNode schedule =
                  (tools.jackson.databind.node.ObjectNode) JSON.readTree(body);
              schedule.put("paused", false);
              schedule.put("next_fire_at", "2026-12-02T02:00:00Z");
              respond(exchange, 201, JSON.writeValueAsString(schedule));
            }
          });
      server.createContext(
          "/internal/queues",
          exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            String path = exchange.getRequestURI().getPath();
            if (path.equals("/internal/queues")) {
              respond(exchange, 200, "[" + queue("default") + "]");
            } else {
              fake.seen.put("queue method", exchange.getRequestMethod());
              fake.seen.put("queue body", new String(body, StandardCharsets.UTF_8));
              respond(exchange, 200, queue(path.substring("/internal/queues/".length())));
            }
          });
      server.createContext(
          "/internal/workers",
          exchange ->
              respond(exchange, 200, "[{\"id\":\"w1\",\"slots\":2,\"status\":\"active\"}]"));
      server.start();
      return fake;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** From now on {@code id} is not stored (until the gateway's wait for it says it is). */
  void doesNotKnow(String id) {
    unknown.add(id);
  }

  /** The raw query string of the last {@code GET /internal/jobs}. */
  String lastListQuery() {
    return lastListQuery.get();
  }

  static String storedJob(String id) {
    return job(id, "pending", "");
  }

  /** A job as scheduler-core shows it, in {@code status}, with {@code more} fields (",\"k\":v"). */
  static String job(String id, String status, String more) {
    return "{\"id\":\""
        + id
        + "\",\"command\":\"echo stored\",\"status\":\""
        + status
        + "\",\"created_at\":\"2026-12-01T12:00:00Z\",\"max_retries\":3,\"attempts\":0,"
        + "\"queue_name\":\""
        + queueOf(id)
        + "\""
        + more
        + ",\"attempt_history\":[]}";
  }

  /** Job {@code job-q-<queue>-...} is in that queue; every other job in {@code default}. */
  static String queueOf(String id) {
    if (id.startsWith("job-q-")) {
      String rest = id.substring("job-q-".length());
      return rest.substring(0, rest.indexOf('-'));
    }
    return "default";
  }

  private static String queue(String name) {
    return "{\"name\":\""
        + name
        + "\",\"max_running\":null,\"max_running_per_key\":null,\"paused\":false,"
        + "\"counts\":{\"pending\":0,\"running\":0}}";
  }

  private void jobs(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    if (path.equals("/internal/jobs/existing")) {
      existing(exchange);
      return;
    }
    if (path.endsWith("/retry")) {
      String id = path.substring("/internal/jobs/".length(), path.length() - 6);
      if (id.startsWith("job-done")) {
        respond(exchange, 409, "{\"status\":409,\"job_status\":\"done\",\"detail\":\"no\"}");
      } else {
        seen.put("retry query", String.valueOf(exchange.getRequestURI().getRawQuery()));
        respond(exchange, 200, "{\"id\":\"" + id + "\",\"status\":\"pending\"}");
      }
      return;
    }
    if (path.endsWith("/cancel")) {
      cancel(exchange, path.substring("/internal/jobs/".length(), path.length() - 7));
      return;
    }
    if (path.endsWith("/stored")) {
      try {
        storedAnswers.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      String id = path.substring("/internal/jobs/".length(), path.length() - "/stored".length());
      respond(exchange, 200, storedJob(id));
      return;
    }
    if (path.equals("/internal/jobs")) {
      lastListQuery.set(exchange.getRequestURI().getRawQuery());
      respond(
          exchange,
          200,
          "{\"jobs\":["
              + storedJob("job-a")
              + ","
              + storedJob("job-b")
              + "],\"next_cursor\":\""
              + NEXT_CURSOR
              + "\"}");
      return;
    }
    String id = path.substring("/internal/jobs/".length());
    if (id.startsWith("job-missing") || unknown.contains(id)) {
      respond(exchange, 404, "{\"status\":404}");
    } else {
      respond(exchange, 200, storedJob(id));
    }
  }

  private void cancel(HttpExchange exchange, String id) throws IOException {
    lastCancelRequestId.set(exchange.getRequestHeaders().getFirst("X-Request-ID"));
    seen.put(
        "cancel actor", String.valueOf(exchange.getRequestHeaders().getFirst("X-Workron-Actor")));
    seen.put(
        "cancel authorization",
        String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
    JsonNode body = JSON.readTree(exchange.getRequestBody().readAllBytes());
    boolean catchUp = body.path("submitted_before").isObject();
    if (id.startsWith("job-missing") || (id.startsWith("job-late") && !catchUp)) {
      respond(exchange, 404, "{\"status\":404,\"caught_up\":" + catchUp + "}");
    } else if (id.startsWith("job-done")) {
      respond(
          exchange,
          409,
          "{\"status\":409,\"job_status\":\"done\",\"detail\":\"job "
              + id
              + " is done; only a pending, blocked or running job can be cancelled\"}");
    } else if (id.startsWith("job-running")) {
      seen.put("cancel reason", body.path("reason").asString(""));
      respond(
          exchange, 202, job(id, "running", ",\"cancel_requested_at\":\"2026-12-01T12:00:00Z\""));
    } else {
      respond(exchange, 200, job(id, "cancelled", ""));
    }
  }

  private void existing(HttpExchange exchange) throws IOException {
    JsonNode query = JSON.readTree(exchange.getRequestBody().readAllBytes());
    boolean catchUp = query.path("submitted_before").isObject();
    List<String> existing = new ArrayList<>();
    List<String> missing = new ArrayList<>();
    List<String> cycle = new ArrayList<>();
    for (JsonNode idNode : query.path("ids")) {
      String id = idNode.asString();
      if (id.startsWith("job-missing") || (id.startsWith("job-late") && !catchUp)) {
        missing.add(id);
      } else {
        existing.add(id);
        if (id.equals("job-closes-cycle")) {
          String self = query.path("job_id").asString();
          cycle = List.of(self, id, self);
        }
      }
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("existing", existing);
    body.put("missing", missing);
    body.put("caught_up", catchUp);
    body.put("cycle", cycle);
    respond(exchange, 200, JSON.writeValueAsString(body));
  }

  private static void respond(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
    exchange.close();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
