package io.workron.testsupport;

import com.atlassian.oai.validator.OpenApiInteractionValidator;
import com.atlassian.oai.validator.model.Request;
import com.atlassian.oai.validator.model.SimpleRequest;
import com.atlassian.oai.validator.model.SimpleResponse;
import com.atlassian.oai.validator.report.ValidationReport;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Checks REST exchanges with the gateway against the committed OpenAPI document, {@code
 * api-gateway/openapi.json}: every response (its status must be one the operation lists, its body
 * the schema given for it) and every request the gateway accepted (a 2xx for a request the document
 * calls invalid means the document is wrong). Requests the gateway refused are not checked: tests
 * send bad input on purpose.
 */
public final class OpenApiContract {

  private static volatile OpenApiInteractionValidator validator;

  private OpenApiContract() {}

  /** The committed document. */
  public static Path document() {
    Path dir = Path.of("").toAbsolutePath();
    for (Path p = dir; p != null; p = p.getParent()) {
      Path candidate = p.resolve("api-gateway").resolve("openapi.json");
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    throw new IllegalStateException("no api-gateway/openapi.json above " + dir);
  }

  /** Checks one exchange made with {@code java.net.http}; the request's body is read again. */
  public static void check(java.net.http.HttpRequest request, HttpResponse<String> response) {
    check(request.method(), request.uri(), request.headers().map(), bodyOf(request), response);
  }

  private static String bodyOf(java.net.http.HttpRequest request) {
    return request
        .bodyPublisher()
        .filter(p -> p.contentLength() != 0)
        .map(
            publisher -> {
              java.util.concurrent.CompletableFuture<String> done =
                  new java.util.concurrent.CompletableFuture<>();
              java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
              publisher.subscribe(
                  new java.util.concurrent.Flow.Subscriber<java.nio.ByteBuffer>() {
                    @Override
                    public void onSubscribe(java.util.concurrent.Flow.Subscription s) {
                      s.request(Long.MAX_VALUE);
                    }

                    @Override
                    public void onNext(java.nio.ByteBuffer item) {
                      byte[] bytes = new byte[item.remaining()];
                      item.get(bytes);
                      out.writeBytes(bytes);
                    }

                    @Override
                    public void onError(Throwable t) {
                      done.completeExceptionally(t);
                    }

                    @Override
                    public void onComplete() {
                      done.complete(out.toString(StandardCharsets.UTF_8));
                    }
                  });
              return done.join();
            })
        .orElse(null);
  }

  /**
   * Checks one exchange. {@code requestHeaders} and {@code requestBody} (null for none) are what
   * was sent; paths outside the API (actuator, the document itself) are not checked.
   */
  public static void check(
      String method,
      URI uri,
      Map<String, List<String>> requestHeaders,
      String requestBody,
      HttpResponse<String> response) {
    String path = uri.getRawPath();
    String decoded = uri.getPath();
    if (decoded.startsWith("/actuator")
        || decoded.startsWith("/internal/")
        || decoded.startsWith("/v3/api-docs")
        || decoded.startsWith("/swagger-ui")) {
      return;
    }
    SimpleRequest.Builder request = new SimpleRequest.Builder(method, path);
    requestHeaders.forEach(request::withHeader);
    if (requestBody != null) {
      request.withBody(requestBody);
    }
    if (uri.getRawQuery() != null) {
      for (String pair : uri.getRawQuery().split("&")) {
        int eq = pair.indexOf('=');
        String name = decode(eq < 0 ? pair : pair.substring(0, eq));
        request.withQueryParam(name, eq < 0 ? "" : decode(pair.substring(eq + 1)));
      }
    }
    SimpleResponse.Builder answer = SimpleResponse.Builder.status(response.statusCode());
    response.headers().map().forEach(answer::withHeader);
    if (response.body() != null && !response.body().isEmpty()) {
      answer.withBody(response.body());
    }
    Request built = request.build();
    boolean accepted = response.statusCode() / 100 == 2;
    ValidationReport report =
        accepted
            ? validator().validate(built, answer.build())
            : validator().validateResponse(path, built.getMethod(), answer.build());
    if (!accepted && (response.statusCode() == 404 || response.statusCode() == 405)) {
      // a path or method the API does not have, refused as such: nothing for the document to say
      report =
          ValidationReport.from(
              report.getMessages().stream()
                  .filter(
                      m ->
                          !m.getKey().endsWith(".path.missing")
                              && !m.getKey().endsWith(".operation.notAllowed"))
                  .toList());
    }
    boolean emptyText =
        (response.body() == null || response.body().isEmpty())
            && response.headers().firstValue("Content-Type").orElse("").startsWith("text/");
    if (emptyText) {
      // an empty text body is a body: a job's output before it printed anything
      report =
          ValidationReport.from(
              report.getMessages().stream()
                  .filter(m -> !m.getKey().equals("validation.response.body.missing"))
                  .toList());
    }
    if (report.hasErrors()) {
      throw new AssertionError(
          method
              + " "
              + uri
              + " -> "
              + response.statusCode()
              + " does not match "
              + document()
              + ":\n"
              + report.getMessages().stream()
                  .map(m -> "  " + m.getKey() + ": " + m.getMessage())
                  .collect(Collectors.joining("\n"))
              + "\nresponse body: "
              + abbreviated(response.body()));
    }
  }

  private static OpenApiInteractionValidator validator() {
    if (validator == null) {
      synchronized (OpenApiContract.class) {
        if (validator == null) {
          validator =
              OpenApiInteractionValidator.createForSpecificationUrl(document().toUri().toString())
                  .build();
        }
      }
    }
    return validator;
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  private static String abbreviated(String body) {
    return body == null || body.length() <= 2000 ? body : body.substring(0, 2000) + "…";
  }
}
