package io.workron.gateway.query;

import io.workron.gateway.schedulercore.SchedulerCoreClient;
import java.util.concurrent.CompletableFuture;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/** {@code GET /workers}: every worker scheduler-core knows, in any status, as in the seed. */
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
}
