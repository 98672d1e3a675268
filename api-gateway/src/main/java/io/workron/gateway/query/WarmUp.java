package io.workron.gateway.query;

import io.workron.gateway.security.WarmUpToken;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * Before the gateway reports itself ready, sends one read through its own web server and its client
 * to scheduler-core, so the first client's request does not pay for a cold JVM (which on a busy
 * machine can exceed the query timeout). Whatever the answer (404, or 503 while scheduler-core is
 * not up yet), the code paths are loaded; failures are ignored.
 */
@Component
class WarmUp implements ApplicationRunner {

  private static final Logger log = LoggerFactory.getLogger(WarmUp.class);

  private final Environment environment;
  private final WarmUpToken token;

  WarmUp(Environment environment, WarmUpToken token) {
    this.environment = environment;
    this.token = token;
  }

  @Override
  public void run(ApplicationArguments args) {
    String port = environment.getProperty("local.server.port");
    if (port == null) {
      return;
    }
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    for (String path : new String[] {"/jobs/warm-up", "/health"}) {
      try {
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + token.value())
                .timeout(Duration.ofSeconds(30))
                .GET()
                .build(),
            HttpResponse.BodyHandlers.discarding());
      } catch (Exception e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
          return;
        }
        log.debug("warm-up request {} failed: {}", path, e.toString());
      }
    }
  }
}
