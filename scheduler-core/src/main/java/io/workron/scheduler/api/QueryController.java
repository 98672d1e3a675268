package io.workron.scheduler.api;

import io.workron.scheduler.core.JobStatus;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The internal query API the gateway reads through ({@code /internal/...} on port 8081). Only
 * scheduler-core touches PostgreSQL; everyone else asks here.
 */
@RestController
@RequestMapping("/internal")
class QueryController {

  private final JobQueries queries;

  QueryController(JobQueries queries) {
    this.queries = queries;
  }

  @GetMapping("/jobs/{id}")
  ResponseEntity<?> job(@PathVariable String id) {
    return queries
        .job(id)
        .<ResponseEntity<?>>map(ResponseEntity::ok)
        .orElseGet(() -> problem(HttpStatus.NOT_FOUND, "job " + id + " not found", "id"));
  }

  @GetMapping("/jobs")
  ResponseEntity<?> jobs(
      @RequestParam(required = false) String status,
      @RequestParam(defaultValue = "100") int limit,
      @RequestParam(required = false) String cursor) {
    if (status != null && !JobStatus.isKnown(status)) {
      return problem(HttpStatus.BAD_REQUEST, "unknown status '" + status + "'", "status");
    }
    if (limit < 1 || limit > 1000) {
      return problem(HttpStatus.BAD_REQUEST, "limit must be between 1 and 1000", "limit");
    }
    String after = null;
    if (cursor != null) {
      after = decodeCursor(cursor);
      if (after == null) {
        return problem(HttpStatus.BAD_REQUEST, "cursor is not one this API gave out", "cursor");
      }
    }

    JobQueries.Page page = queries.list(status, limit, after);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("jobs", page.jobs());
    body.put(
        "next_cursor",
        page.nextCursor() == null
            ? null
            : Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString(
                    (CURSOR_PREFIX + page.nextCursor()).getBytes(StandardCharsets.UTF_8)));
    return ResponseEntity.ok(body);
  }

  /** Marks a cursor as ours, so a made-up one is refused instead of silently paging from it. */
  private static final String CURSOR_PREFIX = "after:";

  /** The job id a cursor continues after, or null if the cursor is not one this API gave out. */
  private static String decodeCursor(String cursor) {
    try {
      String text = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
      return text.startsWith(CURSOR_PREFIX) && text.length() > CURSOR_PREFIX.length()
          ? text.substring(CURSOR_PREFIX.length())
          : null;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  @GetMapping("/workers")
  List<Map<String, Object>> workers() {
    return queries.workers();
  }

  private static ResponseEntity<ProblemDetail> problem(
      HttpStatus status, String detail, String field) {
    ProblemDetail p = ProblemDetail.forStatusAndDetail(status, detail);
    p.setProperty("field", field);
    return ResponseEntity.status(status).body(p);
  }
}
