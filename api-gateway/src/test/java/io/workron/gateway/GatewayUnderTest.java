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

  /** The token every request of these tests carries unless it names its own: scope admin. */
  static final String ADMIN_TOKEN = "wrk_test-admin-token-of-the-gateway-tests";

  /** Hex SHA-256 of a token, as the configuration wants it. */
  static String sha256(String token) {
    return io.workron.gateway.security.HashedTokens.sha256(token);
  }

  /**
   * Settings win over api-gateway.properties (they are passed as command-line arguments). Unless
   * they configure tokens themselves, {@link #ADMIN_TOKEN} is the one token.
   */
  static GatewayUnderTest start(String... settings) {
    List<String> args = new ArrayList<>(List.of("--server.port=0"));
    if (java.util.Arrays.stream(settings).noneMatch(s -> s.startsWith("workron.auth."))) {
      args.add("--workron.auth.tokens[0].name=test-admin");
      args.add("--workron.auth.tokens[0].sha256=" + sha256(ADMIN_TOKEN));
      args.add("--workron.auth.tokens[0].scopes=admin");
    }
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

  HttpResponse<String> put(String path, String body, String... headers) {
    return send(
        request(path, Duration.ofSeconds(10), headers)
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
    boolean ownAuthorization = false;
    for (int i = 0; i < headers.length; i += 2) {
      ownAuthorization |= headers[i].equalsIgnoreCase("Authorization");
    }
    if (!ownAuthorization) {
      builder.header("Authorization", "Bearer " + ADMIN_TOKEN);
    }
    return builder;
  }

  /**
   * {@code method path} with exactly these headers (none added: no token unless given), and a JSON
   * body unless null.
   */
  HttpResponse<String> exchange(String method, String path, String body, String... headers) {
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(10));
    if (headers.length > 0) {
      builder.headers(headers);
    }
    if (body != null) {
      builder.header("Content-Type", "application/json");
    }
    return send(
        builder
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body))
            .build(),
        body);
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
