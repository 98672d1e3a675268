package io.workron.gateway.control;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.workron.gateway.GatewayProperties;
import io.workron.gateway.http.ConflictException;
import io.workron.gateway.http.ForbiddenException;
import io.workron.gateway.http.InvalidRequestException;
import io.workron.gateway.http.NotFoundException;
import io.workron.gateway.openapi.ApiModel;
import io.workron.gateway.schedulercore.SchedulerCoreClient;
import io.workron.gateway.security.Scopes;
import io.workron.gateway.submission.SubmissionOffsets;
import io.workron.schemas.JobSubmission;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code POST /jobs/{id}/cancel} and {@code POST /jobs/{id}/retry}, through scheduler-core. A
 * cancel's body is optional; if given, it is a JSON object whose only field is {@code reason}.
 *
 * <ul>
 *   <li>200 with the job when it is cancelled at once (it was pending or blocked), or was already;
 *   <li>202 with the job and its {@code cancel_requested_at} while its running attempt is being
 *       stopped: {@code GET /jobs/{id}} shows {@code cancelled} once the worker confirms. An
 *       attempt that succeeds before the stop takes effect makes the job done;
 *   <li>409 for a job that is done or failed;
 *   <li>404 for an id never submitted. A job accepted (202) moments ago is waited for, up to the
 *       created-wait, before the gateway says so.
 * </ul>
 */
@RestController
class JobControlController {

  /** Most bytes a cancel's body may have (a reason of 4096 characters, escaped, fits). */
  static final int MAX_BODY_BYTES = 64 * 1024;

  static final int MAX_REASON_LENGTH = 4096;

  private final SchedulerCoreClient schedulerCore;
  private final SubmissionOffsets offsets;
  private final ExecutorService continuations;
  private final JsonMapper mapper;
  private final Duration createdWait;

  JobControlController(
      SchedulerCoreClient schedulerCore,
      SubmissionOffsets offsets,
      @Qualifier("submissionContinuations") ExecutorService continuations,
      JsonMapper mapper,
      GatewayProperties properties) {
    this.schedulerCore = schedulerCore;
    this.offsets = offsets;
    this.continuations = continuations;
    this.mapper = mapper;
    this.createdWait = properties.createdWait();
  }

  @Operation(
      summary = "Cancel a job (a gang task cancels its whole gang)",
      requestBody =
          @io.swagger.v3.oas.annotations.parameters.RequestBody(
              required = false,
              content =
                  @Content(
                      mediaType = "application/json",
                      schema = @Schema(implementation = ApiModel.CancelRequest.class))),
      responses = {
        @ApiResponse(
            responseCode = "200",
            description = "cancelled, at once or already",
            content =
                @Content(
                    mediaType = "application/json",
                    schema = @Schema(implementation = ApiModel.Job.class))),
        @ApiResponse(
            responseCode = "202",
            description = "its running attempt is being stopped; cancel_requested_at is set",
            content =
                @Content(
                    mediaType = "application/json",
                    schema = @Schema(implementation = ApiModel.Job.class))),
        @ApiResponse(
            responseCode = "400",
            description = "the body is not {\"reason\": \"...\"}",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem"))),
        @ApiResponse(
            responseCode = "404",
            description = "no such job",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem"))),
        @ApiResponse(
            responseCode = "409",
            description = "the job is done or failed",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem")))
      })
  @PostMapping("/jobs/{id}/cancel")
  CompletableFuture<ResponseEntity<byte[]>> cancel(
      @PathVariable String id, @Parameter(hidden = true) InputStream body) throws IOException {
    String reason = reason(body.readNBytes(MAX_BODY_BYTES + 1));
    Scopes.Grant caller = Scopes.current();
    // calls made on another thread carry the request id and caller all the same
    Map<String, String> fields = org.slf4j.MDC.getCopyOfContextMap();
    if (!caller.mayWriteEveryQueue()) {
      // a jobs:write:<queue> token: only its queues' jobs, and only jobs already stored (the
      // grace for one accepted moments ago would cancel before its queue is known)
      return inAllowedQueue(id, id, caller)
          .thenCompose(
              allowed ->
                  withFields(fields, () -> schedulerCore.cancel(id, reason, null, Duration.ZERO)))
          .thenApply(answer -> response(id, answer));
    }
    return schedulerCore
        .cancel(id, reason, null, Duration.ZERO)
        .thenCompose(
            first -> {
              if (first.status() != 404 || createdWait.isZero()) {
                return CompletableFuture.completedFuture(first);
              }
              // not stored: maybe accepted moments ago and not ingested yet; ask again once
              // ingestion has handled everything submitted until now
              return CompletableFuture.supplyAsync(offsets::endOffsets, continuations)
                  .thenCompose(
                      submitted ->
                          withFields(
                              fields,
                              () -> schedulerCore.cancel(id, reason, submitted, createdWait)));
            })
        .thenApply(answer -> response(id, answer));
  }

  /**
   * {@code POST /gangs/{id}/cancel}: every task of the gang. 200 with the gang's summary when all
   * are cancelled at once, 202 while running tasks are being stopped, 409 when the gang already
   * ended, 404 for an unknown gang. Cancelling any one task ({@code POST /jobs/{id}/cancel}) also
   * stops them all.
   */
  @Operation(
      summary = "Cancel every task of a gang",
      requestBody =
          @io.swagger.v3.oas.annotations.parameters.RequestBody(
              required = false,
              content =
                  @Content(
                      mediaType = "application/json",
                      schema = @Schema(implementation = ApiModel.CancelRequest.class))),
      responses = {
        @ApiResponse(
            responseCode = "200",
            description = "all cancelled",
            content =
                @Content(
                    mediaType = "application/json",
                    schema = @Schema(implementation = ApiModel.GangSummary.class))),
        @ApiResponse(
            responseCode = "202",
            description = "running tasks are being stopped",
            content =
                @Content(
                    mediaType = "application/json",
                    schema = @Schema(implementation = ApiModel.GangSummary.class))),
        @ApiResponse(
            responseCode = "400",
            description = "the body is not {\"reason\": \"...\"}",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem"))),
        @ApiResponse(
            responseCode = "404",
            description = "no such gang",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem"))),
        @ApiResponse(
            responseCode = "409",
            description = "the gang already ended",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem")))
      })
  @PostMapping("/gangs/{id}/cancel")
  CompletableFuture<ResponseEntity<byte[]>> cancelGang(
      @PathVariable String id, @Parameter(hidden = true) InputStream body) throws IOException {
    String reason = reason(body.readNBytes(MAX_BODY_BYTES + 1));
    Scopes.Grant caller = Scopes.current();
    Map<String, String> fields = org.slf4j.MDC.getCopyOfContextMap();
    CompletableFuture<Void> allowed =
        caller.mayWriteEveryQueue()
            ? CompletableFuture.completedFuture(null)
            // a gang's tasks share its queue: task 0's is the gang's
            : inAllowedQueue(JobSubmission.gangTaskId(id, 0), "gang \"" + id + "\"", caller);
    return allowed
        .thenCompose(ok -> withFields(fields, () -> schedulerCore.cancelGang(id, reason)))
        .thenApply(
            answer -> {
              if (answer.status() == 404) {
                throw new NotFoundException("gang \"" + id + "\" does not exist");
              }
              return response(id, answer);
            });
  }

  /**
   * {@code POST /jobs/{id}/retry}: a failed or cancelled job runs again with a fresh attempt budget
   * (200 with the job); with {@code ?cascade=true} the jobs cancelled because of it wait for it
   * again (listed in {@code revived}). 409 for a job in another status, or one whose dependency
   * failed or was cancelled (retry that first); 404 for an unknown id.
   */
  @Operation(
      summary = "Run a failed or cancelled job again, with a fresh attempt budget",
      responses = {
        @ApiResponse(
            responseCode = "200",
            description = "the job, pending or blocked again",
            content =
                @Content(
                    mediaType = "application/json",
                    schema = @Schema(implementation = ApiModel.JobRetried.class))),
        @ApiResponse(
            responseCode = "400",
            description = "cascade is not true or false",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem"))),
        @ApiResponse(
            responseCode = "404",
            description = "no such job",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem"))),
        @ApiResponse(
            responseCode = "409",
            description =
                "the job is in another status, or a dependency of it failed or was cancelled",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem")))
      })
  @PostMapping("/jobs/{id}/retry")
  CompletableFuture<ResponseEntity<byte[]>> retry(
      @PathVariable String id,
      @Parameter(
              description = "also revive the jobs cancelled because of it",
              schema = @Schema(type = "boolean"))
          @org.springframework.web.bind.annotation.RequestParam(required = false)
          String cascade) {
    if (cascade != null && !cascade.equals("true") && !cascade.equals("false")) {
      throw new InvalidRequestException("cascade", "cascade must be true or false");
    }
    return schedulerCore
        .retry(id, "true".equals(cascade))
        .thenApply(answer -> response(id, answer));
  }

  private static <T> T withFields(Map<String, String> fields, java.util.function.Supplier<T> call) {
    Map<String, String> before = org.slf4j.MDC.getCopyOfContextMap();
    if (fields != null) {
      org.slf4j.MDC.setContextMap(fields);
    }
    try {
      return call.get();
    } finally {
      // the thread may be the request's own, when the step before had already completed
      if (before != null) {
        org.slf4j.MDC.setContextMap(before);
      } else {
        org.slf4j.MDC.clear();
      }
    }
  }

  /**
   * Completes when job {@code jobId} is in a queue the caller may write to; fails with 404 when it
   * is not stored, 403 when its queue is another's.
   */
  private CompletableFuture<Void> inAllowedQueue(String jobId, String what, Scopes.Grant caller) {
    return schedulerCore
        .job(jobId)
        .thenAccept(
            found -> {
              if (found.isEmpty()) {
                throw new NotFoundException(
                    what.equals(jobId)
                        ? "job \"" + jobId + "\" does not exist"
                        : what + " does not exist");
              }
              String queue = mapper.readTree(found.get()).path("queue_name").asString(null);
              if (queue == null) {
                throw new IllegalStateException(
                    "scheduler-core's job " + jobId + " has no queue_name");
              }
              if (!caller.mayWrite(queue)) {
                throw new ForbiddenException(
                    caller.name(), Scopes.WRITE + ":" + queue, "cancelling in queue " + queue);
              }
            });
  }

  private static ResponseEntity<byte[]> response(String id, SchedulerCoreClient.Answer answer) {
    return switch (answer.status()) {
      case 200, 202 ->
          ResponseEntity.status(answer.status())
              .contentType(MediaType.APPLICATION_JSON)
              .body(answer.raw());
      case 404 -> throw new NotFoundException("job \"" + id + "\" does not exist");
      case 409 ->
          throw new ConflictException(answer.body().path("detail").asString(), extras(answer));
      case 400 ->
          throw new InvalidRequestException(
              answer.body().path("field").asString("reason"),
              answer.body().path("detail").asString("invalid cancel request"));
      default ->
          throw new IllegalStateException(
              "scheduler-core answered a cancel of " + id + " with " + answer.status());
    };
  }

  /** What scheduler-core's problem says besides the standard members, as it said it. */
  private static Map<String, Object> extras(SchedulerCoreClient.Answer answer) {
    Map<String, Object> extras = new java.util.LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> p : answer.body().properties()) {
      if (!java.util.Set.of("type", "title", "status", "detail", "instance", "field")
          .contains(p.getKey())) {
        extras.put(p.getKey(), p.getValue().isString() ? p.getValue().asString() : p.getValue());
      }
    }
    return extras;
  }

  /** The reason in the body, or null; a body that is not {@code {"reason": "..."}} is refused. */
  private String reason(byte[] bytes) {
    if (bytes.length > MAX_BODY_BYTES) {
      throw new InvalidRequestException(
          null, "request body must be at most " + MAX_BODY_BYTES + " bytes");
    }
    if (new String(bytes, java.nio.charset.StandardCharsets.UTF_8).isBlank()) {
      return null;
    }
    JsonNode tree;
    try {
      tree = mapper.readTree(bytes);
    } catch (JacksonException e) {
      throw new InvalidRequestException(null, "request body is not valid JSON");
    }
    if (tree == null || !tree.isObject()) {
      throw new InvalidRequestException(null, "request body must be a JSON object");
    }
    for (Map.Entry<String, JsonNode> field : tree.properties()) {
      if (!"reason".equals(field.getKey())) {
        throw new InvalidRequestException(
            field.getKey(), field.getKey() + " is not a field of a cancel; the only one is reason");
      }
    }
    JsonNode reason = tree.get("reason");
    if (reason == null || reason.isNull()) {
      return null;
    }
    if (!reason.isString()) {
      throw new InvalidRequestException("reason", "reason must be a string");
    }
    String text = reason.asString();
    if (text.length() > MAX_REASON_LENGTH) {
      throw new InvalidRequestException(
          "reason", "reason must be at most " + MAX_REASON_LENGTH + " characters");
    }
    if (text.indexOf('\u0000') >= 0) {
      throw new InvalidRequestException("reason", "reason must not contain NUL characters");
    }
    return text;
  }
}
