package io.workron.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.workron.testsupport.TestInfrastructure;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The internal API answers only the gateway's shared token; the actuator stays open; without a
 * token, scheduler-core refuses to listen anywhere but loopback.
 */
class InternalApiGuardIT {

  private static SchedulerUnderTest scheduler;

  @BeforeAll
  static void start() {
    scheduler = new SchedulerUnderTest();
  }

  @AfterAll
  static void stop() {
    if (scheduler != null) {
      scheduler.close();
    }
  }

  @Test
  void theInternalApiAnswersOnlyTheSharedToken() throws Exception {
    HttpResponse<String> none = scheduler.getWith("/internal/jobs");
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.headers().firstValue("WWW-Authenticate"))
        .hasValue("Bearer realm=\"workron-internal\"");
    assertThat(none.body()).contains("WORKRON_INTERNAL_API_TOKEN");
    assertThat(
            scheduler
                .getWith(
                    "/internal/jobs", "Authorization", "Bearer internal-token-of-the-scheduler")
                .statusCode())
        .isEqualTo(401);
    assertThat(
            scheduler
                .getWith(
                    "/internal/jobs",
                    "Authorization",
                    "Bearer " + SchedulerUnderTest.INTERNAL_TOKEN)
                .statusCode())
        .isEqualTo(200);
    // the path as the handlers see it decides, not the raw one
    for (String disguised :
        new String[] {"/internal;x/jobs", "/%69nternal/jobs", "/internal/./jobs"}) {
      assertThat(scheduler.getWith(disguised).statusCode()).as(disguised).isIn(400, 401);
    }
    assertThat(scheduler.postWithout("/internal;x/queues/default/pause").statusCode())
        .isEqualTo(401);
    assertThat(scheduler.getWith("/actuator/health/readiness").statusCode()).isEqualTo(200);
    assertThat(scheduler.getWith("/actuator/prometheus").statusCode()).isEqualTo(200);
  }

  @Test
  void withoutATokenItRefusesToListenBeyondLoopback() {
    TestInfrastructure infra = TestInfrastructure.get();
    assertThatThrownBy(
            () ->
                SchedulerCoreApplication.builder()
                    .run(
                        "--server.port=0",
                        "--server.address=0.0.0.0",
                        "--spring.datasource.url=" + infra.newDatabase(),
                        "--spring.datasource.username=" + infra.username(),
                        "--spring.datasource.password=" + infra.password(),
                        "--spring.kafka.bootstrap-servers=" + infra.kafkaBootstrapServers(),
                        "--workron.topic-prefix=" + infra.newTopicPrefix()))
        .hasStackTraceContaining("has no token and listens on 0.0.0.0")
        .hasStackTraceContaining("WORKRON_INTERNAL_API_TOKEN");
  }
}
