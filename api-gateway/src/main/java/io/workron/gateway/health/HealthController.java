package io.workron.gateway.health;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.workron.gateway.openapi.ApiModel;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The seed's {@code GET /health}: which gateway instance answered and for how long it has been up.
 * It says nothing about Kafka or scheduler-core; {@code /actuator/health} is for probes.
 */
@RestController
class HealthController {

  private final Clock clock;
  private final Instant startedAt;
  private final String instanceId;

  HealthController(Clock clock) {
    this.clock = clock;
    this.startedAt = clock.instant();
    this.instanceId = UUID.randomUUID().toString().substring(0, 8);
  }

  @Operation(
      summary = "The seed's health answer; probes use /actuator/health/liveness and /readiness",
      responses = {
        @ApiResponse(
            responseCode = "200",
            description = "up",
            content =
                @Content(
                    mediaType = "application/json",
                    schema = @Schema(implementation = ApiModel.Health.class)))
      })
  @GetMapping("/health")
  Health health() {
    return new Health(instanceId, goDuration(Duration.between(startedAt, clock.instant())), "ok");
  }

  record Health(@JsonProperty("instance_id") String instanceId, String uptime, String status) {}

  /**
   * Go's {@code time.Duration.String()} of a duration rounded to whole seconds (half away from
   * zero, as Go's {@code Round}): {@code 0s}, {@code 45s}, {@code 2m5s}, {@code 1h0m0s}.
   */
  static String goDuration(Duration duration) {
    long millis = Math.max(0, duration.toMillis());
    long seconds = (millis + 500) / 1000;
    long hours = seconds / 3600;
    long minutes = seconds % 3600 / 60;
    long rest = seconds % 60;
    if (hours > 0) {
      return hours + "h" + minutes + "m" + rest + "s";
    }
    if (minutes > 0) {
      return minutes + "m" + rest + "s";
    }
    return rest + "s";
  }
}
