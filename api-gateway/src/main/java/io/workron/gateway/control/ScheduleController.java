package io.workron.gateway.control;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.workron.gateway.http.ConflictException;
import io.workron.gateway.http.InvalidRequestException;
import io.workron.gateway.http.NotFoundException;
import io.workron.gateway.openapi.ApiModel;
import io.workron.gateway.schedulercore.SchedulerCoreClient;
import io.workron.gateway.submission.SubmissionRequest;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Recurring schedules: {@code POST /schedules} ({@code name}, {@code cron}, {@code time_zone},
 * {@code job}, {@code missed}, {@code overlap}), {@code GET /schedules} (with {@code
 * next_fire_at}), {@code GET}/{@code DELETE /schedules/{name}}, {@code POST
 * /schedules/{name}/pause} and {@code /resume}. The gateway refuses keys it does not know (in the
 * body and in its {@code job}); scheduler-core checks the values (cron, zone, the job's fields).
 */
@RestController
class ScheduleController {

  static final Set<String> KEYS = Set.of("name", "cron", "time_zone", "job", "missed", "overlap");

  private final SchedulerCoreClient schedulerCore;
  private final JsonMapper mapper;

  ScheduleController(SchedulerCoreClient schedulerCore, JsonMapper mapper) {
    this.schedulerCore = schedulerCore;
    this.mapper = mapper;
  }

  @Operation(
      summary = "Create a recurring schedule",
      requestBody =
          @io.swagger.v3.oas.annotations.parameters.RequestBody(
              required = true,
              content =
                  @Content(
                      mediaType = "application/json",
                      schema = @Schema(implementation = ApiModel.ScheduleRequest.class))),
      responses = {
        @ApiResponse(
            responseCode = "201",
            description = "created",
            content =
                @Content(
                    mediaType = "application/json",
                    schema = @Schema(implementation = ApiModel.Schedule.class))),
        @ApiResponse(
            responseCode = "400",
            description = "a field is missing or wrong; field names it",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem"))),
        @ApiResponse(
            responseCode = "409",
            description = "a schedule with this name exists",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem")))
      })
  @PostMapping("/schedules")
  CompletableFuture<ResponseEntity<byte[]>> create(@Parameter(hidden = true) InputStream body)
      throws IOException {
    byte[] bytes = body.readNBytes(128 * 1024 + 1);
    JsonNode tree = checked(bytes);
    return schedulerCore
        .schedules("POST", "", Map.of(), mapper.writeValueAsBytes(tree))
        .thenApply(a -> relayed(a, null));
  }

  @Operation(
      summary = "Schedules, with their next firing",
      responses = {
        @ApiResponse(
            responseCode = "200",
            description = "the schedules",
            content =
                @Content(
                    mediaType = "application/json",
                    array =
                        @ArraySchema(schema = @Schema(implementation = ApiModel.Schedule.class))))
      })
  @GetMapping("/schedules")
  CompletableFuture<ResponseEntity<byte[]>> list() {
    return schedulerCore.schedules("GET", "", Map.of(), null).thenApply(a -> relayed(a, null));
  }

  @Operation(
      summary = "A schedule",
      responses = {
        @ApiResponse(
            responseCode = "200",
            description = "the schedule",
            content =
                @Content(
                    mediaType = "application/json",
                    schema = @Schema(implementation = ApiModel.Schedule.class))),
        @ApiResponse(
            responseCode = "404",
            description = "no such schedule",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem")))
      })
  @GetMapping("/schedules/{name}")
  CompletableFuture<ResponseEntity<byte[]>> one(@PathVariable String name) {
    return schedulerCore
        .schedules("GET", "/{name}", Map.of("name", name), null)
        .thenApply(a -> relayed(a, name));
  }

  @Operation(
      summary = "Delete a schedule; jobs it fired are kept",
      responses = {
        @ApiResponse(responseCode = "204", description = "deleted", content = @Content),
        @ApiResponse(
            responseCode = "404",
            description = "no such schedule",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem")))
      })
  @DeleteMapping("/schedules/{name}")
  CompletableFuture<ResponseEntity<byte[]>> delete(@PathVariable String name) {
    return schedulerCore
        .schedules("DELETE", "/{name}", Map.of("name", name), null)
        .thenApply(a -> relayed(a, name));
  }

  @Operation(
      summary = "Pause or resume a schedule",
      responses = {
        @ApiResponse(
            responseCode = "200",
            description = "the schedule",
            content =
                @Content(
                    mediaType = "application/json",
                    schema = @Schema(implementation = ApiModel.Schedule.class))),
        @ApiResponse(
            responseCode = "400",
            description = "action is not pause or resume",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem"))),
        @ApiResponse(
            responseCode = "404",
            description = "no such schedule",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem")))
      })
  @PostMapping("/schedules/{name}/{action}")
  CompletableFuture<ResponseEntity<byte[]>> act(
      @PathVariable String name,
      @Parameter(schema = @Schema(allowableValues = {"pause", "resume"})) @PathVariable
          String action) {
    if (!action.equals("pause") && !action.equals("resume")) {
      throw new InvalidRequestException(
          "action", "unknown schedule action \"" + action + "\"; one of pause, resume");
    }
    return schedulerCore
        .schedules("POST", "/{name}/" + action, Map.of("name", name), null)
        .thenApply(a -> relayed(a, name));
  }

  private static ResponseEntity<byte[]> relayed(SchedulerCoreClient.Answer a, String name) {
    return switch (a.status()) {
      case 200, 201 ->
          ResponseEntity.status(a.status()).contentType(MediaType.APPLICATION_JSON).body(a.raw());
      case 204 -> ResponseEntity.noContent().build();
      case 400 ->
          throw new InvalidRequestException(
              a.body().path("field").asString(null), a.body().path("detail").asString());
      case 404 -> throw new NotFoundException("no schedule named \"" + name + "\"");
      case 409 -> throw new ConflictException(a.body().path("detail").asString(), Map.of());
      default ->
          throw new IllegalStateException(
              "scheduler-core answered a schedule call with " + a.status());
    };
  }

  /** The body as JSON, with only keys this API knows, at the top and in {@code job}. */
  private JsonNode checked(byte[] bytes) {
    if (bytes.length > 128 * 1024) {
      throw new InvalidRequestException(null, "request body must be at most 131072 bytes");
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
    for (String key : tree.propertyNames()) {
      if (!KEYS.contains(key)) {
        throw new InvalidRequestException(
            key, key + " is not a field of a schedule; they are " + String.join(", ", KEYS));
      }
    }
    JsonNode job = tree.get("job");
    if (job != null && job.isObject()) {
      for (String key : job.propertyNames()) {
        if (!SubmissionRequest.READ_KEYS.contains(key)) {
          throw new InvalidRequestException(
              "job." + key, "job." + key + " is not a field of a job");
        }
      }
      JsonNode resources = job.get("resources");
      if (resources != null && resources.isObject()) {
        for (String key : resources.propertyNames()) {
          if (!SubmissionRequest.RESOURCE_KEYS.contains(key)) {
            throw new InvalidRequestException(
                "job.resources." + key, "job.resources." + key + " is not a resource");
          }
        }
      }
    }
    return tree;
  }
}
