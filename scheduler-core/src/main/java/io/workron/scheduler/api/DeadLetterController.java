package io.workron.scheduler.api;

import io.workron.scheduler.audit.AuditTrail;
import io.workron.scheduler.deadletters.DeadLetterBook;
import jakarta.servlet.http.HttpServletRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Dead letters as the gateway asks for them: {@code GET /internal/dead-letters} (the topics and a
 * page, newest first), {@code GET …/{topic}/{partition}/{offset}} (one, whole) and {@code POST
 * …/replay} (send it back to its topic).
 */
@RestController
@RequestMapping("/internal/dead-letters")
class DeadLetterController {

  private static final Logger log = LoggerFactory.getLogger(DeadLetterController.class);

  private final DeadLetterBook book;

  DeadLetterController(DeadLetterBook book) {
    this.book = book;
  }

  @GetMapping
  ResponseEntity<?> page(
      @RequestParam(required = false) String topic,
      @RequestParam(defaultValue = "50") int limit,
      @RequestParam(required = false) String cursor)
      throws Exception {
    if (limit < 1 || limit > DeadLetterBook.MAX_LIMIT) {
      return problem(400, "limit", "limit must be between 1 and " + DeadLetterBook.MAX_LIMIT);
    }
    try {
      return ResponseEntity.ok(book.page(blankToNull(topic), limit, blankToNull(cursor)));
    } catch (DeadLetterBook.Refused e) {
      return problem(e);
    } catch (IllegalStateException e) {
      return problem(503, null, e.getMessage());
    }
  }

  @GetMapping("/{topic}/{partition}/{offset}")
  ResponseEntity<?> one(
      @PathVariable String topic, @PathVariable int partition, @PathVariable long offset)
      throws Exception {
    try {
      return ResponseEntity.ok(book.one(topic, partition, offset));
    } catch (DeadLetterBook.Refused e) {
      return problem(e);
    } catch (IllegalStateException e) {
      return problem(503, null, e.getMessage());
    }
  }

  @PostMapping("/{topic}/{partition}/{offset}/replay")
  ResponseEntity<?> replay(
      @PathVariable String topic,
      @PathVariable int partition,
      @PathVariable long offset,
      @RequestParam(defaultValue = "false") boolean again,
      @RequestHeader(name = "X-Workron-Actor", required = false) String actor,
      @RequestHeader(name = "X-Request-ID", required = false) String requestId,
      HttpServletRequest request)
      throws Exception {
    String subject = topic + "/" + partition + "@" + offset;
    request.setAttribute(AuditTrail.SUBJECT, subject);
    try {
      var answer =
          book.replay(
              topic, partition, offset, again, actor == null ? "unknown" : actor, requestId);
      log.info("dead letter {} replayed to {}", subject, answer.get("replayed_to"));
      return ResponseEntity.ok(answer);
    } catch (DeadLetterBook.Refused e) {
      return problem(e);
    } catch (IllegalStateException e) {
      log.warn("could not replay the dead letter {}: {}", subject, e.getMessage());
      return problem(503, null, e.getMessage());
    }
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }

  private static ResponseEntity<ProblemDetail> problem(DeadLetterBook.Refused e) {
    return problem(e.status(), e.field(), e.getMessage());
  }

  private static ResponseEntity<ProblemDetail> problem(int status, String field, String detail) {
    ProblemDetail p = ProblemDetail.forStatusAndDetail(HttpStatus.valueOf(status), detail);
    if (field != null) {
      p.setProperty("field", field);
    }
    return ResponseEntity.status(status).body(p);
  }
}
