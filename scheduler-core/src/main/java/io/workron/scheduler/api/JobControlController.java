package io.workron.scheduler.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.workron.scheduler.cancel.Cancellations;
import io.workron.scheduler.ingest.IngestWaits;
import io.workron.scheduler.retry.ManualRetries;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * What a user does to a job once submitted, as the gateway asks it: {@code POST
 * /internal/jobs/{id}/cancel} and {@code …/retry}. The gateway checks the request; this answers
 * with the status the public API gives.
 */
@RestController
@RequestMapping("/internal/jobs")
class JobControlController implements DisposableBean {

  private static final Logger log = LoggerFactory.getLogger(JobControlController.class);

  /** Longest reason recorded with a cancel, as {@code job.cancel.v1} allows. */
  static final int MAX_REASON_LENGTH = 4096;

  private final Cancellations cancellations;
  private final ManualRetries retries;
  private final JobQueries queries;
  private final IngestWaits waits;
  private final TransactionTemplate tx;
  private final Clock clock;

  /** Where a cancel that waited for ingestion runs, never on the thread that noticed the commit. */
  private final ExecutorService afterWait;

  JobControlController(
      Cancellations cancellations,
      ManualRetries retries,
      JobQueries queries,
      IngestWaits waits,
      TransactionTemplate tx,
      Clock clock) {
    this.cancellations = cancellations;
    this.retries = retries;
    this.queries = queries;
    this.waits = waits;
    this.tx = tx;
    this.clock = clock;
    AtomicInteger n = new AtomicInteger();
    this.afterWait =
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "control-after-wait-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * The body of a cancel: why (optional), and, for an id scheduler-core does not know yet, how far
   * ingestion must have come before "unknown" is the answer ({@code submitted_before}, partition to
   * end offset of the submissions topic, waited for up to {@code wait_ms}).
   */
  record CancelRequest(
      String reason,
      @JsonProperty("submitted_before") Map<Integer, Long> submittedBefore,
      @JsonProperty("wait_ms") Long waitMs) {}

  /**
   * 200 with the job when it is cancelled now or was already; 202 with the job (and its {@code
   * cancel_requested_at}) while its running attempt is being stopped; 409 when it is done or
   * failed; 404 (with {@code caught_up}) when no such job is stored.
   */
  @PostMapping("/{id}/cancel")
  CompletableFuture<ResponseEntity<?>> cancel(
      @PathVariable String id, @RequestBody(required = false) CancelRequest body) {
    CancelRequest request = body == null ? new CancelRequest(null, null, null) : body;
    if (request.reason() != null && request.reason().length() > MAX_REASON_LENGTH) {
      return CompletableFuture.completedFuture(
          problem(
              HttpStatus.BAD_REQUEST,
              "reason must be at most " + MAX_REASON_LENGTH + " characters",
              "reason"));
    }
    long waitMs = request.waitMs() == null ? 0 : request.waitMs();
    if (waitMs < 0) {
      return CompletableFuture.completedFuture(
          problem(HttpStatus.BAD_REQUEST, "wait_ms must not be negative", "wait_ms"));
    }
    if (request.submittedBefore() == null || request.submittedBefore().isEmpty()) {
      return CompletableFuture.completedFuture(cancelNow(id, request.reason(), false));
    }
    Duration wait = Duration.ofMillis(waitMs);
    return waits
        .await(
            request.submittedBefore(),
            wait.compareTo(QueryController.MAX_WAIT) > 0 ? QueryController.MAX_WAIT : wait)
        .thenApplyAsync(caughtUp -> cancelNow(id, request.reason(), caughtUp), afterWait);
  }

  private ResponseEntity<?> cancelNow(String id, String reason, boolean caughtUp) {
    OffsetDateTime now = OffsetDateTime.now(clock);
    Cancellations.Result result =
        tx.execute(
            status ->
                cancellations
                    .cancel(List.of(new Cancellations.Request(id, reason)), false, now)
                    .get(id));
    log.info("cancel job_id={}: {}", id, result);
    return switch (result) {
      case CANCELLED, ALREADY_CANCELLED -> withJob(HttpStatus.OK, id);
      case STOPPING -> withJob(HttpStatus.ACCEPTED, id);
      case FINISHED -> {
        String status = queries.job(id).map(j -> String.valueOf(j.get("status"))).orElse("done");
        yield conflict(
            "job "
                + id
                + " is "
                + status
                + "; only a pending, blocked or running job can be"
                + " cancelled",
            Map.of("job_status", status));
      }
      case UNKNOWN -> {
        ResponseEntity<ProblemDetail> missing =
            problem(HttpStatus.NOT_FOUND, "job " + id + " does not exist", "id");
        missing.getBody().setProperty("caught_up", caughtUp);
        yield missing;
      }
    };
  }

  /**
   * 200 with the job, pending (or blocked while its dependencies are not all done) with a fresh
   * attempt budget; with {@code cascade=true} the jobs cancelled because of it wait for it again.
   * 409 when it is not failed or cancelled, or a job it depends on failed or was cancelled; 404
   * when no such job is stored.
   */
  @PostMapping("/{id}/retry")
  ResponseEntity<?> retry(
      @PathVariable String id,
      @org.springframework.web.bind.annotation.RequestParam(required = false) String cascade) {
    if (cascade != null && !cascade.equals("true") && !cascade.equals("false")) {
      return problem(HttpStatus.BAD_REQUEST, "cascade must be true or false", "cascade");
    }
    boolean withDependents = "true".equals(cascade);
    OffsetDateTime now = OffsetDateTime.now(clock);
    // the job as the retry left it, read in the same transaction: after the commit the dispatch
    // loop may claim it at once, and the answer would race it
    record Retry(ManualRetries.Result result, java.util.Optional<Map<String, Object>> view) {}
    Retry retry =
        tx.execute(
            status -> {
              ManualRetries.Result r = retries.retry(id, withDependents, now);
              return new Retry(
                  r,
                  r instanceof ManualRetries.Retried
                      ? queries.job(id)
                      : java.util.Optional.<Map<String, Object>>empty());
            });
    ManualRetries.Result result = retry.result();
    log.info("retry by hand job_id={} cascade={}: {}", id, withDependents, result);
    if (result instanceof ManualRetries.Retried retried) {
      return retry
          .view()
          .<ResponseEntity<?>>map(
              view -> {
                Map<String, Object> body = new java.util.LinkedHashMap<>(view);
                if (withDependents) {
                  body.put("revived", retried.revived());
                }
                return ResponseEntity.ok(body);
              })
          .orElseGet(() -> problem(HttpStatus.NOT_FOUND, "job " + id + " does not exist", "id"));
    }
    if (result instanceof ManualRetries.NotFinishedBadly n) {
      return conflict(
          "job "
              + id
              + " is "
              + n.status().wire()
              + "; only a failed or cancelled job can be"
              + " retried",
          Map.of("job_status", n.status().wire()));
    }
    if (result instanceof ManualRetries.UpstreamNotRetried u) {
      return conflict(
          "job "
              + id
              + " depends on job "
              + u.upstream()
              + ", which is "
              + u.status().wire()
              + "; retry that one first (with cascade=true to bring this one back too)",
          Map.of("upstream", u.upstream(), "upstream_status", u.status().wire()));
    }
    if (result instanceof ManualRetries.GangTask g) {
      return conflict(
          "job "
              + id
              + " is a task of gang "
              + g.gangId()
              + ", which runs all its tasks at once or none: a task is not retried alone;"
              + " submit the gang again",
          Map.of("gang_id", g.gangId()));
    }
    return problem(HttpStatus.NOT_FOUND, "job " + id + " does not exist", "id");
  }

  private ResponseEntity<?> withJob(HttpStatus status, String id) {
    return queries
        .job(id)
        .<ResponseEntity<?>>map(job -> ResponseEntity.status(status).body(job))
        .orElseGet(() -> problem(HttpStatus.NOT_FOUND, "job " + id + " does not exist", "id"));
  }

  @Override
  public void destroy() {
    afterWait.shutdownNow();
  }

  /** 409 naming the job ({@code field: id}), with {@code properties} added to the problem. */
  private static ResponseEntity<ProblemDetail> conflict(
      String detail, Map<String, Object> properties) {
    ResponseEntity<ProblemDetail> conflict = problem(HttpStatus.CONFLICT, detail, "id");
    properties.forEach(conflict.getBody()::setProperty);
    return conflict;
  }

  private static ResponseEntity<ProblemDetail> problem(
      HttpStatus status, String detail, String field) {
    ProblemDetail p = ProblemDetail.forStatusAndDetail(status, detail);
    p.setProperty("field", field);
    return ResponseEntity.status(status).body(p);
  }
}
