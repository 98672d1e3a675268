package io.workron.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.workron.schemas.Ids;
import io.workron.testsupport.TestInfrastructure;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.json.JsonMapper;

/**
 * More submissions at once than the gateway admits: the ones over the limit are answered 429 at
 * once, while the admitted ones are still in progress, and nothing of theirs reaches Kafka.
 */
class SubmissionOverloadIT {

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final int ADMITTED = 4;
  private static final int REQUESTS = 40;

  private static final CountDownLatch ingestion = new CountDownLatch(1);
  private static FakeSchedulerCore schedulerCore;
  private static SubmissionsTopic topic;
  private static GatewayUnderTest gateway;

  @BeforeAll
  static void start() throws Exception {
    TestInfrastructure infra = TestInfrastructure.get();
    String prefix = infra.newTopicPrefix();
    schedulerCore = FakeSchedulerCore.start(ingestion);
    topic = SubmissionsTopic.create(infra.kafkaBootstrapServers(), prefix);
    gateway =
        GatewayUnderTest.start(
            "spring.kafka.bootstrap-servers=" + infra.kafkaBootstrapServers(),
            "workron.topic-prefix=" + prefix,
            "workron.gateway.scheduler-url=" + schedulerCore.url(),
            "workron.gateway.created-wait=10s",
            "workron.gateway.max-concurrent-submissions=" + ADMITTED);
  }

  @AfterAll
  static void stop() {
    ingestion.countDown();
    if (gateway != null) {
      gateway.close();
    }
    if (topic != null) {
      topic.close();
    }
    if (schedulerCore != null) {
      schedulerCore.close();
    }
  }

  @Test
  void answersSubmissionsOverTheLimitAt429AtOnceAndProducesNothingForThem() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    List<String> keys = new ArrayList<>();
    List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
    for (int i = 0; i < REQUESTS; i++) {
      String key = "overload-" + i + "-" + System.nanoTime();
      keys.add(key);
      schedulerCore.doesNotKnow(Ids.jobIdForIdempotencyKey(key));
      responses.add(
          http.sendAsync(
              HttpRequest.newBuilder(URI.create(gateway.url() + "/jobs"))
                  .header("Idempotency-Key", key)
                  .header("Authorization", "Bearer " + GatewayUnderTest.ADMIN_TOKEN)
                  .timeout(Duration.ofSeconds(30))
                  .POST(HttpRequest.BodyPublishers.ofString("{\"command\":\"echo " + i + "\"}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString()));
    }

    // scheduler-core has stored nothing yet, so the admitted submissions are all still waiting:
    // every other one must have been answered already, without waiting for a place
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                responses.stream().filter(CompletableFuture::isDone).count()
                    >= REQUESTS - ADMITTED);
    List<Integer> early = new ArrayList<>();
    List<String> refused = new ArrayList<>();
    for (int i = 0; i < REQUESTS; i++) {
      if (responses.get(i).isDone()) {
        HttpResponse<String> r = responses.get(i).join();
        early.add(r.statusCode());
        assertThat(r.headers().firstValue("Retry-After")).hasValue("1");
        assertThat(r.headers().firstValue("Content-Type"))
            .hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
        assertThat(JSON.readTree(r.body()).path("status").asInt()).isEqualTo(429);
        refused.add(Ids.jobIdForIdempotencyKey(keys.get(i)));
      }
    }
    assertThat(early).hasSize(REQUESTS - ADMITTED).containsOnly(429);

    ingestion.countDown();
    List<String> admitted = new ArrayList<>();
    for (CompletableFuture<HttpResponse<String>> f : responses) {
      HttpResponse<String> r = f.join();
      if (r.statusCode() != 429) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        admitted.add(r.headers().firstValue("Location").orElseThrow().substring("/jobs/".length()));
      }
    }
    assertThat(admitted).hasSize(ADMITTED);
    List<String> produced = topic.allKeys();
    assertThat(produced).containsExactlyInAnyOrderElementsOf(admitted);
    assertThat(produced).doesNotContainAnyElementsOf(refused);

    // and once the admitted ones are done, the gateway admits again
    HttpResponse<String> later = gateway.post("/jobs", "{\"command\":\"echo later\"}");
    assertThat(later.statusCode()).isEqualTo(201);
  }
}
