package io.workron.scheduler.api;

import io.workron.scheduler.dispatch.DispatchLoop;
import java.time.Clock;
import java.time.OffsetDateTime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * An operator's drain of a worker: {@code POST /internal/workers/{id}/drain} gives it no new
 * dispatches (its running attempts finish), {@code …/resume} lets it take work again. Both answer
 * 200 with the worker as {@code GET /internal/workers} shows it, and are idempotent; 404 for a
 * worker never seen.
 */
@RestController
@RequestMapping("/internal/workers")
class WorkerDrainController {

  private static final Logger log = LoggerFactory.getLogger(WorkerDrainController.class);

  private final JobQueries queries;
  private final DispatchLoop dispatch;
  private final Clock clock;

  WorkerDrainController(JobQueries queries, DispatchLoop dispatch, Clock clock) {
    this.queries = queries;
    this.dispatch = dispatch;
    this.clock = clock;
  }

  @PostMapping("/{id}/drain")
  ResponseEntity<?> drain(@PathVariable String id) {
    return cordon(id, true);
  }

  @PostMapping("/{id}/resume")
  ResponseEntity<?> resume(@PathVariable String id) {
    return cordon(id, false);
  }

  private ResponseEntity<?> cordon(String id, boolean drained) {
    return queries
        .cordon(id, drained, OffsetDateTime.now(clock))
        .<ResponseEntity<?>>map(
            worker -> {
              log.info("worker {} worker_id={}", drained ? "drained" : "resumed", id);
              if (!drained) {
                dispatch.wake();
              }
              return ResponseEntity.ok(worker);
            })
        .orElseGet(() -> notFound(id));
  }

  private static ResponseEntity<?> notFound(String id) {
    ProblemDetail problem =
        ProblemDetail.forStatusAndDetail(HttpStatus.NOT_FOUND, "no worker " + id);
    problem.setProperty("field", "id");
    return ResponseEntity.status(HttpStatus.NOT_FOUND).body(problem);
  }
}
