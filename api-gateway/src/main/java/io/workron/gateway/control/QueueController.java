package io.workron.gateway.control;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.workron.gateway.http.FieldProblem;
import io.workron.gateway.http.InvalidRequestException;
import io.workron.gateway.openapi.ApiModel;
import io.workron.gateway.schedulercore.SchedulerCoreClient;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Queues: {@code GET /queues} lists each with its limits, whether it is paused, and its jobs per
 * status; {@code PUT /queues/{name}} sets {@code max_running} and {@code max_running_per_key}
 * (absent or null: no limit); {@code POST /queues/{name}/pause} holds its pending jobs (running
 * ones go on) until {@code POST /queues/{name}/resume}.
 */
@RestController
class QueueController {

  static final Set<String> LIMIT_KEYS = Set.of("max_running", "max_running_per_key");
  static final int MAX_NAME_LENGTH = 128;

  private final SchedulerCoreClient schedulerCore;
  private final JsonMapper mapper;

  QueueController(SchedulerCoreClient schedulerCore, JsonMapper mapper) {
    this.schedulerCore = schedulerCore;
    this.mapper = mapper;
  }

  @Operation(
      summary = "Queues, with their limits, pause state and jobs per status",
      responses = {
        @ApiResponse(
            responseCode = "200",
            description = "the queues",
            content =
                @Content(
                    mediaType = "application/json",
                    array = @ArraySchema(schema = @Schema(implementation = ApiModel.Queue.class))))
      })
  @GetMapping("/queues")
  CompletableFuture<JsonNode> list() {
    return schedulerCore.queues();
  }

  @Operation(
      summary = "Set a queue's limits",
      requestBody =
          @io.swagger.v3.oas.annotations.parameters.RequestBody(
              required = true,
              content =
                  @Content(
                      mediaType = "application/json",
                      schema = @Schema(implementation = ApiModel.QueueLimits.class))),
      responses = {
        @ApiResponse(
            responseCode = "200",
            description = "the queue",
            content =
                @Content(
                    mediaType = "application/json",
                    schema = @Schema(implementation = ApiModel.Queue.class))),
        @ApiResponse(
            responseCode = "400",
            description = "a limit or the name is not valid; field names it",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem")))
      })
  @PutMapping("/queues/{name}")
  CompletableFuture<ResponseEntity<byte[]>> setLimits(
      @PathVariable String name, @Parameter(hidden = true) InputStream body) throws IOException {
    checkName(name);
    JsonNode tree = object(body.readNBytes(64 * 1024 + 1));
    List<FieldProblem> problems = new ArrayList<>();
    for (Map.Entry<String, JsonNode> field : tree.properties()) {
      if (!LIMIT_KEYS.contains(field.getKey())) {
        problems.add(
            new FieldProblem(
                field.getKey(),
                field.getKey()
                    + " is not a queue setting; they are max_running and"
                    + " max_running_per_key"));
      }
    }
    Integer maxRunning = limit(tree, "max_running", problems);
    Integer maxRunningPerKey = limit(tree, "max_running_per_key", problems);
    if (!problems.isEmpty()) {
      throw new InvalidRequestException(problems);
    }
    return schedulerCore
        .setQueueLimits(name, maxRunning, maxRunningPerKey)
        .thenApply(QueueController::relayed);
  }

  @Operation(
      summary = "Pause a queue (its pending jobs wait; running ones go on) or resume it",
      responses = {
        @ApiResponse(
            responseCode = "200",
            description = "the queue",
            content =
                @Content(
                    mediaType = "application/json",
                    schema = @Schema(implementation = ApiModel.Queue.class))),
        @ApiResponse(
            responseCode = "400",
            description = "action is not pause or resume, or the name is not valid",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem")))
      })
  @PostMapping("/queues/{name}/{action}")
  CompletableFuture<ResponseEntity<byte[]>> act(
      @PathVariable String name,
      @Parameter(schema = @Schema(allowableValues = {"pause", "resume"})) @PathVariable
          String action) {
    checkName(name);
    if (!action.equals("pause") && !action.equals("resume")) {
      throw new InvalidRequestException(
          "action", "unknown queue action \"" + action + "\"; one of pause, resume");
    }
    return schedulerCore
        .pauseQueue(name, action.equals("pause"))
        .thenApply(QueueController::relayed);
  }

  private static ResponseEntity<byte[]> relayed(SchedulerCoreClient.Answer answer) {
    if (answer.status() == 400) {
      throw new InvalidRequestException(
          answer.body().path("field").asString(null), answer.body().path("detail").asString());
    }
    if (answer.status() != 200) {
      throw new IllegalStateException(
          "scheduler-core answered a queue change with " + answer.status());
    }
    return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(answer.raw());
  }

  private static void checkName(String name) {
    if (name.length() > MAX_NAME_LENGTH || name.indexOf('\u0000') >= 0) {
      throw new InvalidRequestException(
          "name", "a queue name is at most " + MAX_NAME_LENGTH + " characters, without NUL");
    }
  }

  private JsonNode object(byte[] bytes) {
    if (bytes.length > 64 * 1024) {
      throw new InvalidRequestException(null, "request body must be at most 65536 bytes");
    }
    if (new String(bytes, java.nio.charset.StandardCharsets.UTF_8).isBlank()) {
      return mapper.createObjectNode();
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
    return tree;
  }

  private static Integer limit(JsonNode tree, String field, List<FieldProblem> problems) {
    JsonNode value = tree.get(field);
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.isIntegralNumber() || !value.canConvertToInt() || value.asInt() < 1) {
      problems.add(
          new FieldProblem(field, field + " must be a whole number of at least 1, or null"));
      return null;
    }
    return value.asInt();
  }
}
