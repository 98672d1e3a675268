package io.workron.gateway;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The whole gateway on a random port, started the way standalone mode starts it, and an HTTP client
 * to talk to it as a user would.
 */
final class GatewayUnderTest implements AutoCloseable {

  private final ConfigurableApplicationContext context;
  private final HttpClient http = HttpClient.newHttpClient();
  private final int port;

  private GatewayUnderTest(ConfigurableApplicationContext context) {
    this.context = context;
    this.port = Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
  }

  /** Settings win over api-gateway.properties (they are passed as command-line arguments). */
  static GatewayUnderTest start(String... settings) {
    List<String> args = new ArrayList<>(List.of("--server.port=0"));
    for (String setting : settings) {
      args.add("--" + setting);
    }
    return new GatewayUnderTest(ApiGatewayApplication.builder().run(args.toArray(String[]::new)));
  }

  /** The gateway's base URL. */
  String url() {
    return "http://127.0.0.1:" + port;
  }

  /** A local port nothing listens on: connecting to it is refused at once. */
  static int closedPort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  HttpResponse<String> get(String path, String... headers) {
    return send(request(path, Duration.ofSeconds(10), headers).GET().build(), null);
  }

  HttpResponse<String> post(String path, String body, String... headers) {
    return post(path, body, Duration.ofSeconds(10), headers);
  }

  /**
   * Fails with an {@code HttpTimeoutException} if the gateway has not answered within {@code
   * patience}.
   */
  HttpResponse<String> post(String path, String body, Duration patience, String... headers) {
    return send(
        request(path, patience, headers)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        body);
  }

  HttpResponse<String> put(String path, String body) {
    return send(
        request(path, Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        body);
  }

  private HttpRequest.Builder request(String path, Duration patience, String... headers) {
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(patience);
    if (headers.length > 0) {
      builder.headers(headers);
    }
    return builder;
  }

  /** Sends, and checks the exchange against the committed OpenAPI document. */
  private HttpResponse<String> send(HttpRequest request, String body) {
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      io.workron.testsupport.OpenApiContract.check(
          request.method(), request.uri(), request.headers().map(), body, response);
      return response;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    context.close();
  }
}
