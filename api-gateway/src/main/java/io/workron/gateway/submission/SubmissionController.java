package io.workron.gateway.submission;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.workron.gateway.http.RequestId;
import io.workron.gateway.openapi.ApiModel;
import io.workron.gateway.security.Scopes;
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

  @Operation(
      summary = "Submit a job, or a gang of tasks (gang_size 2 or more)",
      description =
          "201 with the job once scheduler-core has stored it; 202 when it is safely in Kafka but"
              + " not stored yet (it appears at Location); 200 with the job already stored under"
              + " the same Idempotency-Key.",
      requestBody =
          @io.swagger.v3.oas.annotations.parameters.RequestBody(
              required = true,
              content =
                  @Content(
                      mediaType = "application/json",
                      schema = @Schema(implementation = ApiModel.JobSubmission.class))),
      responses = {
        @ApiResponse(
            responseCode = "201",
            description = "stored",
            headers = @Header(name = "Location", description = "/jobs/{id} or /gangs/{id}"),
            content = {
              @Content(
                  mediaType = "application/json",
                  schema = @Schema(oneOf = {ApiModel.Job.class, ApiModel.GangSubmitted.class}))
            }),
        @ApiResponse(
            responseCode = "200",
            description = "already submitted with this Idempotency-Key",
            content = {
              @Content(
                  mediaType = "application/json",
                  schema = @Schema(oneOf = {ApiModel.Job.class, ApiModel.GangSubmitted.class}))
            }),
        @ApiResponse(
            responseCode = "202",
            description = "in Kafka, not stored yet",
            headers = @Header(name = "Location", description = "/jobs/{id} or /gangs/{id}"),
            content = {
              @Content(
                  mediaType = "application/json",
                  schema = @Schema(oneOf = {ApiModel.Accepted.class, ApiModel.GangSubmitted.class}))
            }),
        @ApiResponse(
            responseCode = "400",
            description = "a field is missing or wrong; field names it",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem"))),
        @ApiResponse(
            responseCode = "413",
            description = "the body is too large",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem"))),
        @ApiResponse(
            responseCode = "429",
            description = "too many submissions in progress; try again after Retry-After",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem")))
      })
  @PostMapping("/jobs")
  CompletableFuture<ResponseEntity<Object>> submit(
      @Parameter(hidden = true) InputStream body,
      @Parameter(description = "the same key gives the same job, once")
          @RequestHeader(name = SubmissionRules.IDEMPOTENCY_KEY_HEADER, required = false)
          String idempotencyKey,
      HttpServletRequest request)
      throws IOException {
    byte[] bytes = body.readNBytes(SubmissionIntake.MAX_BODY_BYTES + 1);
    return intake
        .submit(bytes, idempotencyKey, RequestId.of(request), Scopes.current())
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
