package io.workron.scheduler.api;

import io.workron.scheduler.cancel.Cancellations;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Gangs as the gateway asks for them: {@code GET /internal/gangs/{id}} (its tasks by {@code
 * gang_index}, the seed's shape), {@code …/summary} (the gang as a whole, with its drain rounds)
 * and {@code POST …/cancel} (every task).
 */
@RestController
@RequestMapping("/internal/gangs")
class GangController {

  private static final Logger log = LoggerFactory.getLogger(GangController.class);

  private final JobQueries queries;
  private final Cancellations cancellations;
  private final TransactionTemplate tx;
  private final Clock clock;

  GangController(
      JobQueries queries, Cancellations cancellations, TransactionTemplate tx, Clock clock) {
    this.queries = queries;
    this.cancellations = cancellations;
    this.tx = tx;
    this.clock = clock;
  }

  @GetMapping("/{id}")
  ResponseEntity<?> gang(@PathVariable String id) {
    return queries
        .gang(id)
        .<ResponseEntity<?>>map(ResponseEntity::ok)
        .orElseGet(() -> notFound(id));
  }

  @GetMapping("/{id}/summary")
  ResponseEntity<?> summary(@PathVariable String id) {
    return queries
        .gangSummary(id)
        .<ResponseEntity<?>>map(ResponseEntity::ok)
        .orElseGet(() -> notFound(id));
  }

  /** The body of a cancel: why (optional). */
  record CancelRequest(String reason) {}

  /**
   * 200 with the summary when every task is cancelled now (or was); 202 while running tasks are
   * being stopped; 409 when the gang already ended; 404 when no such gang is stored.
   */
  @PostMapping("/{id}/cancel")
  ResponseEntity<?> cancel(
      @PathVariable String id, @RequestBody(required = false) CancelRequest body) {
    String reason = body == null ? null : body.reason();
    if (reason != null && reason.length() > JobControlController.MAX_REASON_LENGTH) {
      return problem(
          HttpStatus.BAD_REQUEST,
          "reason must be at most " + JobControlController.MAX_REASON_LENGTH + " characters",
          "reason");
    }
    if (queries.gangSummary(id).isEmpty()) {
      return notFound(id);
    }
    OffsetDateTime now = OffsetDateTime.now(clock);
    Cancellations.Result result =
        tx.execute(
            status ->
                cancellations
                    .cancel(List.of(new Cancellations.Request(id, reason)), false, now)
                    .get(id));
    log.info("cancel gang_id={}: {}", id, result);
    Map<String, Object> summary = queries.gangSummary(id).orElseThrow();
    return switch (result) {
      case CANCELLED, ALREADY_CANCELLED -> ResponseEntity.ok(summary);
      case STOPPING -> ResponseEntity.status(HttpStatus.ACCEPTED).body(summary);
      default -> {
        ResponseEntity<ProblemDetail> conflict =
            problem(
                HttpStatus.CONFLICT,
                "gang " + id + " is " + summary.get("status") + "; nothing left to cancel",
                "id");
        conflict.getBody().setProperty("gang_status", summary.get("status"));
        yield conflict;
      }
    };
  }

  private static ResponseEntity<ProblemDetail> notFound(String id) {
    return problem(HttpStatus.NOT_FOUND, "gang " + id + " not found", "id");
  }

  private static ResponseEntity<ProblemDetail> problem(
      HttpStatus status, String detail, String field) {
    ProblemDetail p = ProblemDetail.forStatusAndDetail(status, detail);
    p.setProperty("field", field);
    return ResponseEntity.status(status).body(p);
  }
}
