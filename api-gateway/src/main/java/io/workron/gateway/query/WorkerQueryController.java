package io.workron.gateway.query;

import io.workron.gateway.http.NotFoundException;
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
class WorkerQueryController {

  private final SchedulerCoreClient schedulerCore;

  WorkerQueryController(SchedulerCoreClient schedulerCore) {
    this.schedulerCore = schedulerCore;
  }

  @GetMapping("/workers")
  CompletableFuture<JsonNode> workers() {
    return schedulerCore.workers();
  }

  @PostMapping("/workers/{id}/drain")
  CompletableFuture<JsonNode> drain(@PathVariable String id) {
    return cordon(id, true);
  }

  @PostMapping("/workers/{id}/resume")
  CompletableFuture<JsonNode> resume(@PathVariable String id) {
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
