package io.workron.cli;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The gateway's REST API as the CLI calls it. A reply of 400 or more becomes a {@link CliException}
 * whose one line says what the problem body says (its title, detail and field), with the exit code
 * of {@link ExitCodes}; so does a gateway that cannot be reached.
 */
final class Gateway {

  static final JsonMapper JSON = JsonMapper.builder().build();

  /** A reply below 400. */
  record Reply(int status, String body, java.net.http.HttpHeaders headers) {
    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (JacksonException e) {
        throw new CliException(
            ExitCodes.FAILED, "the gateway answered something not JSON: " + e.getOriginalMessage());
      }
    }

    Optional<String> header(String name) {
      return headers.firstValue(name);
    }
  }

  private final URI base;
  private final String token;
  private final Duration timeout;
  private final HttpClient http;

  Gateway(String url, String token, Duration timeout) {
    String trimmed = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    try {
      this.base = URI.create(trimmed);
    } catch (IllegalArgumentException e) {
      throw new CliException(ExitCodes.USAGE, "--url is not a URL: " + url);
    }
    if (base.getScheme() == null
        || !(base.getScheme().equals("http") || base.getScheme().equals("https"))
        || base.getHost() == null) {
      throw new CliException(ExitCodes.USAGE, "--url must be an http:// or https:// URL: " + url);
    }
    this.token = token == null || token.isBlank() ? null : token.trim();
    this.timeout = timeout;
    this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
  }

  String url() {
    return base.toString();
  }

  Reply get(String path) {
    return send("GET", path, null, Map.of());
  }

  Reply post(String path, String body, Map<String, String> headers) {
    return send("POST", path, body, headers);
  }

  /** A path segment or query value, percent-encoded. */
  static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }

  Reply send(String method, String path, String body, Map<String, String> headers) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(timeout)
            .header("Accept", "application/json, application/problem+json, text/plain")
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    headers.forEach(request::header);
    HttpResponse<String> response;
    try {
      response =
          http.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (HttpConnectTimeoutException e) {
      throw new CliException(
          ExitCodes.UNREACHABLE,
          "cannot reach the gateway at "
              + base
              + " (no connection within "
              + timeout.toSeconds()
              + " s)");
    } catch (ConnectException e) {
      throw new CliException(
          ExitCodes.UNREACHABLE,
          "cannot reach the gateway at "
              + base
              + " ("
              + (e.getMessage() == null ? "connection refused" : e.getMessage())
              + ")");
    } catch (HttpTimeoutException e) {
      throw new CliException(
          ExitCodes.UNREACHABLE,
          "the gateway at "
              + base
              + " did not answer "
              + method
              + " "
              + path
              + " within "
              + timeout.toSeconds()
              + " s");
    } catch (IOException e) {
      throw new CliException(
          ExitCodes.UNREACHABLE, "cannot reach the gateway at " + base + " (" + why(e) + ")");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException(ExitCodes.FAILED, "interrupted");
    }
    if (response.statusCode() >= 400) {
      throw refused(method, path, response);
    }
    return new Reply(response.statusCode(), response.body(), response.headers());
  }

  private static String why(Throwable e) {
    Throwable cause = e;
    while (cause.getCause() != null && cause.getMessage() == null) {
      cause = cause.getCause();
    }
    String message = cause.getMessage();
    return message == null || message.isBlank() ? cause.getClass().getSimpleName() : message;
  }

  /** The one line a refusal prints: status, the problem's title, detail and field. */
  private static CliException refused(String method, String path, HttpResponse<String> response) {
    int status = response.statusCode();
    int code =
        switch (status) {
          case 401, 403 -> ExitCodes.DENIED;
          case 404 -> ExitCodes.NOT_FOUND;
          default -> ExitCodes.FAILED;
        };
    StringBuilder line =
        new StringBuilder().append(method).append(' ').append(path).append(": ").append(status);
    JsonNode problem = null;
    try {
      problem = JSON.readTree(response.body());
    } catch (JacksonException e) {
      // not a problem body (a proxy's page, say): the status says enough
    }
    if (problem != null && problem.isObject()) {
      text(problem, "title").ifPresent(t -> line.append(' ').append(t));
      text(problem, "detail").ifPresent(d -> line.append(": ").append(d));
      text(problem, "field").ifPresent(f -> line.append(" (field ").append(f).append(')'));
      text(problem, "required_scope")
          .ifPresent(s -> line.append(" (needs scope ").append(s).append(')'));
    }
    if (status == 401) {
      line.append(" — set WORKRON_TOKEN or --token");
    }
    return new CliException(code, status, line.toString().replace('\n', ' '));
  }

  private static Optional<String> text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value == null || value.isNull() || value.asString().isBlank()
        ? Optional.empty()
        : Optional.of(value.asString());
  }
}
