package io.workron.scheduler.api;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * Before scheduler-core reports itself ready, sends each read of the query API through its own web
 * server once: the first request of a fresh JVM (classes to load, code still interpreted) can take
 * more than a second on a busy machine, which the gateway would have to answer 503. Failures only
 * mean the warm-up did less; they are logged and ignored.
 */
@Component
class WarmUp implements ApplicationRunner {

  private static final Logger log = LoggerFactory.getLogger(WarmUp.class);

  private final Environment environment;
  private final String token;

  WarmUp(Environment environment, @Value("${workron.internal-api.token:}") String internalToken) {
    this.environment = environment;
    this.token = internalToken.strip();
  }

  @Override
  public void run(ApplicationArguments args) {
    String port = environment.getProperty("local.server.port");
    if (port == null) {
      return;
    }
    String base = "http://127.0.0.1:" + port + "/internal";
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    long started = System.nanoTime();
    for (HttpRequest request :
        new HttpRequest[] {
          get(base + "/workers"),
          get(base + "/jobs?limit=1"),
          get(base + "/jobs/warm-up"),
          authorized(base + "/jobs/existing")
              .timeout(Duration.ofSeconds(30))
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString("{\"ids\":[\"warm-up\"]}"))
              .build()
        }) {
      try {
        http.send(request, HttpResponse.BodyHandlers.discarding());
      } catch (Exception e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
          return;
        }
        log.debug("warm-up request {} failed: {}", request.uri(), e.toString());
      }
    }
    log.info("query API warmed up in {} ms", (System.nanoTime() - started) / 1_000_000);
  }

  private HttpRequest get(String uri) {
    return authorized(uri).timeout(Duration.ofSeconds(30)).GET().build();
  }

  /** With the internal API's token, as the gateway sends it (InternalApiGuard). */
  private HttpRequest.Builder authorized(String uri) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(uri));
    return token.isEmpty() ? request : request.header("Authorization", "Bearer " + token);
  }
}
