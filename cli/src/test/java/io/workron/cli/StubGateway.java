package io.workron.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for the gateway that answers what a test scripts, for the replies a real stack gives
 * rarely or never on cue: a 500, a proxy's HTML, a job that ends unschedulable. Each route answers
 * its replies in turn and repeats the last.
 */
final class StubGateway implements AutoCloseable {

  record Reply(int status, String contentType, String body) {
    static Reply json(int status, String body) {
      return new Reply(status, "application/json", body);
    }

    static Reply problem(int status, String body) {
      return new Reply(status, "application/problem+json", body);
    }
  }

  /** A request as the stub saw it. */
  record Seen(String method, String path, String authorization, String body) {}

  private final HttpServer server;
  private final Map<String, List<Reply>> routes = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
  final List<Seen> seen = new CopyOnWriteArrayList<>();

  StubGateway() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  /** {@code METHOD /path?query} answers these replies in turn. */
  StubGateway on(String route, Reply... replies) {
    routes.put(route, List.of(replies));
    return this;
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String uri = exchange.getRequestURI().toString();
      String route = exchange.getRequestMethod() + " " + uri;
      seen.add(
          new Seen(
              exchange.getRequestMethod(),
              uri,
              exchange.getRequestHeaders().getFirst("Authorization"),
              new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8)));
      List<Reply> replies = routes.get(route);
      Reply reply;
      if (replies == null) {
        reply =
            Reply.problem(
                404,
                "{\"title\":\"Not Found\",\"status\":404,\"detail\":\"no route "
                    + route
                    + " in the stub\"}");
      } else {
        int n = calls.computeIfAbsent(route, r -> new AtomicInteger()).getAndIncrement();
        reply = replies.get(Math.min(n, replies.size() - 1));
      }
      byte[] body = reply.body().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", reply.contentType());
      exchange.sendResponseHeaders(reply.status(), body.length == 0 ? -1 : body.length);
      if (body.length > 0) {
        exchange.getResponseBody().write(body);
      }
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
