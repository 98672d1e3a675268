package io.workron.scheduler.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.workron.scheduler.dispatch.DispatchLoop;
import io.workron.scheduler.queues.Queues;
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
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * Queues as the gateway asks for them: {@code GET /internal/queues} (limits, pause and counts per
 * status), {@code PUT /internal/queues/{name}} (limits), {@code POST …/pause} and {@code …/resume}.
 * The gateway checks requests; this checks the values again.
 */
@RestController
@RequestMapping("/internal/queues")
class QueueController {

  private static final Logger log = LoggerFactory.getLogger(QueueController.class);

  static final int MAX_NAME_LENGTH = 128;

  private final Queues queues;
  private final DispatchLoop dispatch;
  private final TransactionTemplate tx;
  private final Clock clock;

  QueueController(Queues queues, DispatchLoop dispatch, TransactionTemplate tx, Clock clock) {
    this.queues = queues;
    this.dispatch = dispatch;
    this.tx = tx;
    this.clock = clock;
  }

  record LimitsRequest(
      @JsonProperty("max_running") Integer maxRunning,
      @JsonProperty("max_running_per_key") Integer maxRunningPerKey) {}

  @GetMapping
  List<Map<String, Object>> list() {
    return queues.list();
  }

  @PutMapping("/{name}")
  ResponseEntity<?> setLimits(
      @PathVariable String name, @RequestBody(required = false) LimitsRequest body) {
    LimitsRequest limits = body == null ? new LimitsRequest(null, null) : body;
    if (name.length() > MAX_NAME_LENGTH) {
      return problem("a queue name is at most " + MAX_NAME_LENGTH + " characters", "name");
    }
    if (limits.maxRunning() != null && limits.maxRunning() < 1) {
      return problem("max_running must be at least 1 (or null for no limit)", "max_running");
    }
    if (limits.maxRunningPerKey() != null && limits.maxRunningPerKey() < 1) {
      return problem(
          "max_running_per_key must be at least 1 (or null for no limit)", "max_running_per_key");
    }
    OffsetDateTime now = OffsetDateTime.now(clock);
    Map<String, Object> queue =
        tx.execute(
            status -> queues.setLimits(name, limits.maxRunning(), limits.maxRunningPerKey(), now));
    log.info(
        "queue {} limits set: max_running={} max_running_per_key={}",
        name,
        limits.maxRunning(),
        limits.maxRunningPerKey());
    dispatch.wake();
    return ResponseEntity.ok(queue);
  }

  @PostMapping("/{name}/pause")
  ResponseEntity<?> pause(@PathVariable String name) {
    return paused(name, true);
  }

  @PostMapping("/{name}/resume")
  ResponseEntity<?> resume(@PathVariable String name) {
    return paused(name, false);
  }

  private ResponseEntity<?> paused(String name, boolean paused) {
    if (name.length() > MAX_NAME_LENGTH) {
      return problem("a queue name is at most " + MAX_NAME_LENGTH + " characters", "name");
    }
    OffsetDateTime now = OffsetDateTime.now(clock);
    Map<String, Object> queue = tx.execute(status -> queues.pause(name, paused, now));
    log.info("queue {} {}", name, paused ? "paused" : "resumed");
    if (!paused) {
      dispatch.wake();
    }
    return ResponseEntity.ok(queue);
  }

  private static ResponseEntity<ProblemDetail> problem(String detail, String field) {
    ProblemDetail p = ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST, detail);
    p.setProperty("field", field);
    return ResponseEntity.badRequest().body(p);
  }
}
