package io.workron.gateway.query;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.workron.gateway.http.NotFoundException;
import io.workron.gateway.openapi.ApiModel;
import io.workron.gateway.schedulercore.SchedulerCoreClient;
import java.util.concurrent.CompletableFuture;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/**
 * {@code GET /workers}: every worker scheduler-core knows, in any status, as in the seed; {@code
 * POST /workers/{id}/drain} and {@code /resume}: an operator's cordon (no new dispatches, running
 * jobs finish), shown as {@code drained} in {@code GET /workers}.
 */
@RestController
public class WorkerQueryController {

  private final SchedulerCoreClient schedulerCore;

  WorkerQueryController(SchedulerCoreClient schedulerCore) {
    this.schedulerCore = schedulerCore;
  }

  @Operation(
      summary = "Registered workers",
      responses = {
        @ApiResponse(
            responseCode = "200",
            description = "the workers",
            content =
                @Content(
                    mediaType = "application/json",
                    array = @ArraySchema(schema = @Schema(implementation = ApiModel.Worker.class))))
      })
  @GetMapping("/workers")
  CompletableFuture<JsonNode> workers() {
    return schedulerCore.workers();
  }

  @Operation(
      summary = "Drain a worker: no new dispatches, running attempts finish",
      responses = {
        @ApiResponse(
            responseCode = "200",
            description = "the worker, drained",
            content =
                @Content(
                    mediaType = "application/json",
                    schema = @Schema(implementation = ApiModel.Worker.class))),
        @ApiResponse(
            responseCode = "404",
            description = "no such worker",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem")))
      })
  @PostMapping("/workers/{id}/drain")
  public CompletableFuture<JsonNode> drain(@PathVariable String id) {
    return cordon(id, true);
  }

  @Operation(
      summary = "Resume a drained worker",
      responses = {
        @ApiResponse(
            responseCode = "200",
            description = "the worker",
            content =
                @Content(
                    mediaType = "application/json",
                    schema = @Schema(implementation = ApiModel.Worker.class))),
        @ApiResponse(
            responseCode = "404",
            description = "no such worker",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem")))
      })
  @PostMapping("/workers/{id}/resume")
  public CompletableFuture<JsonNode> resume(@PathVariable String id) {
    return cordon(id, false);
  }

  private CompletableFuture<JsonNode> cordon(String id, boolean drained) {
    return schedulerCore
        .drain(id, drained)
        .thenApply(
            worker ->
                worker.orElseThrow(
                    () -> new NotFoundException("worker \"" + id + "\" does not exist")));
  }
}
