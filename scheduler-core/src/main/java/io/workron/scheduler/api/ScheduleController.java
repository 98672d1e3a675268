package io.workron.scheduler.api;

import io.workron.scheduler.schedules.Schedules;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/**
 * Recurring schedules as the gateway asks for them: {@code POST /internal/schedules} (201, 409 if
 * the name is taken, 400 naming the field), {@code GET} (with {@code next_fire_at}), {@code DELETE
 * /internal/schedules/{name}}, {@code POST …/pause} and {@code …/resume}.
 */
@RestController
@RequestMapping("/internal/schedules")
class ScheduleController {

  private final Schedules schedules;
  private final TransactionTemplate tx;
  private final Clock clock;

  ScheduleController(Schedules schedules, TransactionTemplate tx, Clock clock) {
    this.schedules = schedules;
    this.tx = tx;
    this.clock = clock;
  }

  @PostMapping
  ResponseEntity<?> create(
      @RequestBody(required = false) JsonNode body,
      jakarta.servlet.http.HttpServletRequest request) {
    if (body == null || !body.isObject()) {
      return problem(HttpStatus.BAD_REQUEST, "the body must be a JSON object", null);
    }
    try {
      Schedules.Definition d =
          new Schedules.Definition(
              text(body, "name"),
              text(body, "cron"),
              text(body, "time_zone"),
              body.get("job"),
              text(body, "missed"),
              text(body, "overlap"));
      request.setAttribute(io.workron.scheduler.audit.AuditTrail.SUBJECT, d.name());
      Optional<Map<String, Object>> created =
          tx.execute(status -> schedules.create(d, OffsetDateTime.now(clock)));
      return created
          .<ResponseEntity<?>>map(s -> ResponseEntity.status(HttpStatus.CREATED).body(s))
          .orElseGet(
              () ->
                  problem(
                      HttpStatus.CONFLICT,
                      "a schedule named \"" + d.name() + "\" exists; delete it first",
                      "name"));
    } catch (Schedules.Invalid e) {
      return problem(HttpStatus.BAD_REQUEST, e.getMessage(), e.field());
    }
  }

  @GetMapping
  List<Map<String, Object>> list() {
    return schedules.list();
  }

  @GetMapping("/{name}")
  ResponseEntity<?> one(@PathVariable String name) {
    return found(schedules.view(name), name);
  }

  @DeleteMapping("/{name}")
  ResponseEntity<?> delete(@PathVariable String name) {
    Boolean deleted = tx.execute(status -> schedules.delete(name));
    return Boolean.TRUE.equals(deleted)
        ? ResponseEntity.noContent().build()
        : problem(HttpStatus.NOT_FOUND, "no schedule named \"" + name + "\"", "name");
  }

  @PostMapping("/{name}/pause")
  ResponseEntity<?> pause(@PathVariable String name) {
    return found(tx.execute(s -> schedules.pause(name, true, OffsetDateTime.now(clock))), name);
  }

  @PostMapping("/{name}/resume")
  ResponseEntity<?> resume(@PathVariable String name) {
    return found(tx.execute(s -> schedules.pause(name, false, OffsetDateTime.now(clock))), name);
  }

  private static ResponseEntity<?> found(Optional<Map<String, Object>> schedule, String name) {
    return schedule
        .<ResponseEntity<?>>map(ResponseEntity::ok)
        .orElseGet(
            () -> problem(HttpStatus.NOT_FOUND, "no schedule named \"" + name + "\"", "name"));
  }

  private static String text(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isString()) {
      throw Schedules.invalid(field, field + " must be a string");
    }
    return v.asString();
  }

  private static ResponseEntity<ProblemDetail> problem(
      HttpStatus status, String detail, String field) {
    ProblemDetail p = ProblemDetail.forStatusAndDetail(status, detail);
    if (field != null) {
      p.setProperty("field", field);
    }
    return ResponseEntity.status(status).body(p);
  }
}
