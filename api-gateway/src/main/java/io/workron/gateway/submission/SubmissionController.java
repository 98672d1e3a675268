package io.workron.gateway.submission;

import io.workron.gateway.http.RequestId;
import jakarta.servlet.http.HttpServletRequest;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /jobs}, answered asynchronously: a submission waiting for Kafka's acknowledgement or
 * for scheduler-core to store it holds no web-server thread. The body is read as raw bytes whatever
 * the {@code Content-Type}, as the seed did: {@code curl -d '{"command":"…"}'} (sent as a form by
 * default) keeps working.
 */
@RestController
class SubmissionController {

  private final SubmissionIntake intake;

  SubmissionController(SubmissionIntake intake) {
    this.intake = intake;
  }

  @PostMapping("/jobs")
  CompletableFuture<ResponseEntity<Object>> submit(
      InputStream body,
      @RequestHeader(name = SubmissionRules.IDEMPOTENCY_KEY_HEADER, required = false)
          String idempotencyKey,
      HttpServletRequest request)
      throws IOException {
    byte[] bytes = body.readNBytes(SubmissionIntake.MAX_BODY_BYTES + 1);
    return intake
        .submit(bytes, idempotencyKey, RequestId.of(request))
        .thenApply(SubmissionController::response);
  }

  private static ResponseEntity<Object> response(SubmissionIntake.Outcome outcome) {
    if (outcome.gangId() != null) {
      // the seed's answer to a gang: its id and its tasks' ids in index order
      HttpStatus status =
          switch (outcome.kind()) {
            case CREATED -> HttpStatus.CREATED;
            case EXISTING -> HttpStatus.OK;
            case ACCEPTED -> HttpStatus.ACCEPTED;
          };
      return ResponseEntity.status(status)
          .location(URI.create("/gangs/" + outcome.gangId()))
          .contentType(MediaType.APPLICATION_JSON)
          .body(
              new Gang(
                  outcome.gangId(),
                  outcome.tasks(),
                  outcome.kind() == SubmissionIntake.Kind.ACCEPTED ? "accepted" : null));
    }
    URI location = URI.create("/jobs/" + outcome.jobId());
    return switch (outcome.kind()) {
      case CREATED -> job(HttpStatus.CREATED, location, outcome.job());
      case EXISTING -> job(HttpStatus.OK, location, outcome.job());
      case ACCEPTED ->
          ResponseEntity.accepted()
              .location(location)
              .contentType(MediaType.APPLICATION_JSON)
              .body(new Accepted(outcome.jobId(), "accepted"));
    };
  }

  private static ResponseEntity<Object> job(HttpStatus status, URI location, byte[] job) {
    return ResponseEntity.status(status)
        .location(location)
        .contentType(MediaType.APPLICATION_JSON)
        .body(job);
  }

  /** A gang's answer; {@code status} is "accepted" while it is in Kafka and not yet stored. */
  @com.fasterxml.jackson.annotation.JsonInclude(
      com.fasterxml.jackson.annotation.JsonInclude.Include.NON_NULL)
  record Gang(
      @com.fasterxml.jackson.annotation.JsonProperty("gang_id") String gangId,
      List<String> tasks,
      String status) {}

  /** The 202 body: the job is in Kafka, and will appear at {@code Location} once stored. */
  record Accepted(String id, String status) {}
}
