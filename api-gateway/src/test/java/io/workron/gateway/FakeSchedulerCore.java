package io.workron.gateway;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;

/**
 * scheduler-core's internal query API as the gateway relies on it: every job id is stored except
 * those starting with {@code job-missing}, one page of jobs with a next cursor, one worker.
 */
final class FakeSchedulerCore implements AutoCloseable {

  static final String NEXT_CURSOR = "c2/x+y=";

  private final HttpServer server;
  private final AtomicReference<String> lastListQuery = new AtomicReference<>();

  private FakeSchedulerCore(HttpServer server) {
    this.server = server;
  }

  static FakeSchedulerCore start() {
    try {
      HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
      FakeSchedulerCore fake = new FakeSchedulerCore(server);
      server.createContext("/internal/jobs", fake::jobs);
      server.createContext(
          "/internal/workers",
          exchange -> respond(exchange, 200, "[{\"id\":\"w1\",\"status\":\"active\"}]"));
      server.start();
      return fake;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** The raw query string of the last {@code GET /internal/jobs}. */
  String lastListQuery() {
    return lastListQuery.get();
  }

  static String storedJob(String id) {
    return "{\"id\":\"" + id + "\",\"command\":\"echo stored\",\"status\":\"pending\"}";
  }

  private void jobs(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
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
    if (id.startsWith("job-missing")) {
      respond(exchange, 404, "{\"status\":404}");
    } else {
      respond(exchange, 200, storedJob(id));
    }
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
