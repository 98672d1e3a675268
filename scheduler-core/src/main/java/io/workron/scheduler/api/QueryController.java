package io.workron.scheduler.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.workron.scheduler.core.JobStatus;
import io.workron.scheduler.dag.DependencyGraph;
import io.workron.scheduler.ingest.IngestWaits;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The internal query API the gateway reads through ({@code /internal/...} on port 8081). Only
 * scheduler-core touches PostgreSQL; everyone else asks here.
 */
@RestController
@RequestMapping("/internal")
class QueryController implements org.springframework.beans.factory.DisposableBean {

  /** Longest a caller may ask to wait for ingestion. */
  static final Duration MAX_WAIT = Duration.ofSeconds(10);

  /** Most ids one existence query may ask about (a job has at most 1000 dependencies). */
  static final int MAX_IDS = 1000;

  private final JobQueries queries;
  private final IngestWaits waits;
  private final DependencyGraph graph;

  /** Reads that follow a wait run here, never on the thread that noticed the ingest commit. */
  private final ExecutorService reads;

  private final BatchedJobReads batchedReads;

  QueryController(
      JobQueries queries, IngestWaits waits, DependencyGraph graph, BatchedJobReads batchedReads) {
    this.queries = queries;
    this.batchedReads = batchedReads;
    this.waits = waits;
    this.graph = graph;
    AtomicInteger n = new AtomicInteger();
    this.reads =
        Executors.newFixedThreadPool(
            4,
            r -> {
              Thread t = new Thread(r, "query-after-wait-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * The job once ingestion has handled the submission at {@code offset} of {@code partition} (where
   * its producer got the record acknowledged), waiting up to {@code wait_ms}. 200 with the job; 404
   * when it is not stored, with {@code caught_up} telling whether ingestion got past that offset
   * (then the submission was refused) or the wait ran out first. Answered asynchronously: a waiting
   * request holds no thread.
   */
  @GetMapping("/jobs/{id}/stored")
  Object stored(
      @PathVariable String id,
      @RequestParam String partition,
      @RequestParam String offset,
      @RequestParam(name = "wait_ms", defaultValue = "0") String waitMs) {
    Integer p = nonNegativeInt(partition);
    Long o = nonNegativeLong(offset);
    Long w = nonNegativeLong(waitMs);
    if (p == null || o == null || w == null) {
      String field = p == null ? "partition" : o == null ? "offset" : "wait_ms";
      return problem(HttpStatus.BAD_REQUEST, field + " must be a non-negative integer", field);
    }
    return waits
        .await(Map.of(p, o + 1), bounded(w))
        .thenCompose(
            caughtUp ->
                batchedReads
                    .read(id)
                    .thenApply(
                        job ->
                            job.<ResponseEntity<?>>map(ResponseEntity::ok)
                                .orElseGet(
                                    () -> {
                                      ResponseEntity<ProblemDetail> missing =
                                          problem(
                                              HttpStatus.NOT_FOUND,
                                              "job " + id + " not stored",
                                              "id");
                                      missing.getBody().setProperty("caught_up", caughtUp);
                                      return missing;
                                    })));
  }

  /**
   * Which of {@code ids} are stored, in one call. With {@code submitted_before} (partition to
   * offset, such as the end offsets of the submissions topic when the caller asked), it first waits
   * up to {@code wait_ms} until ingestion has handled everything before those offsets, and {@code
   * caught_up} says whether it did: then a missing id was never accepted. With {@code job_id}, it
   * also reports the cycle that job would close by waiting for the stored ids.
   */
  @PostMapping("/jobs/existing")
  Object existing(@RequestBody(required = false) ExistenceQuery query) {
    if (query == null || query.ids() == null) {
      return problem(HttpStatus.BAD_REQUEST, "ids is required", "ids");
    }
    if (query.ids().size() > MAX_IDS) {
      return problem(HttpStatus.BAD_REQUEST, "at most " + MAX_IDS + " ids", "ids");
    }
    Map<Integer, Long> before =
        query.submittedBefore() == null ? Map.of() : query.submittedBefore();
    long waitMs = query.waitMs() == null ? 0 : query.waitMs();
    if (waitMs < 0) {
      return problem(HttpStatus.BAD_REQUEST, "wait_ms must not be negative", "wait_ms");
    }
    List<String> ids = query.ids().stream().distinct().toList();
    return waits
        .await(before, bounded(waitMs))
        .thenApplyAsync(
            caughtUp -> {
              Set<String> stored = queries.existing(ids);
              Map<String, Object> body = new LinkedHashMap<>();
              body.put("existing", ids.stream().filter(stored::contains).toList());
              body.put("missing", ids.stream().filter(i -> !stored.contains(i)).toList());
              body.put("caught_up", caughtUp);
              body.put(
                  "cycle",
                  query.jobId() == null
                      ? List.of()
                      : graph.cycleThrough(
                          query.jobId(), ids.stream().filter(stored::contains).toList()));
              return ResponseEntity.ok(body);
            },
            reads);
  }

  @Override
  public void destroy() {
    reads.shutdownNow();
  }

  /** The body of {@code POST /internal/jobs/existing}. */
  record ExistenceQuery(
      List<String> ids,
      @JsonProperty("job_id") String jobId,
      @JsonProperty("submitted_before") Map<Integer, Long> submittedBefore,
      @JsonProperty("wait_ms") Long waitMs) {}

  private static Duration bounded(long waitMs) {
    Duration wait = Duration.ofMillis(waitMs);
    return wait.compareTo(MAX_WAIT) > 0 ? MAX_WAIT : wait;
  }

  private static Integer nonNegativeInt(String value) {
    Long l = nonNegativeLong(value);
    return l == null || l > Integer.MAX_VALUE ? null : l.intValue();
  }

  private static Long nonNegativeLong(String value) {
    try {
      long l = Long.parseLong(value);
      return l < 0 ? null : l;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** The job's output tail as plain text (its recent output while it runs); 404 if unknown. */
  @GetMapping("/jobs/{id}/output")
  ResponseEntity<?> output(@PathVariable String id) {
    return queries
        .output(id)
        .<ResponseEntity<?>>map(
            text ->
                ResponseEntity.ok()
                    .contentType(
                        new org.springframework.http.MediaType(
                            "text", "plain", StandardCharsets.UTF_8))
                    .body(text.getBytes(StandardCharsets.UTF_8)))
        .orElseGet(() -> problem(HttpStatus.NOT_FOUND, "job " + id + " not found", "id"));
  }

  /** The job's last checkpoint as raw bytes; 204 when it has none, 404 if unknown. */
  @GetMapping("/jobs/{id}/checkpoint")
  ResponseEntity<?> checkpoint(@PathVariable String id) {
    return queries
        .checkpoint(id)
        .<ResponseEntity<?>>map(
            bytes ->
                bytes.length == 0
                    ? ResponseEntity.noContent().build()
                    : ResponseEntity.ok()
                        .contentType(org.springframework.http.MediaType.APPLICATION_OCTET_STREAM)
                        .body(bytes))
        .orElseGet(() -> problem(HttpStatus.NOT_FOUND, "job " + id + " not found", "id"));
  }

  @GetMapping("/jobs/{id}/graph")
  ResponseEntity<?> graph(@PathVariable String id, @RequestParam(defaultValue = "200") int max) {
    if (max < 1 || max > 1000) {
      return problem(HttpStatus.BAD_REQUEST, "max must be between 1 and 1000", "max");
    }
    return queries
        .graph(id, max)
        .<ResponseEntity<?>>map(ResponseEntity::ok)
        .orElseGet(() -> problem(HttpStatus.NOT_FOUND, "job " + id + " not found", "id"));
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
      @RequestParam(required = false) String queue,
      @RequestParam(required = false) String worker,
      @RequestParam(name = "id_prefix", required = false) String idPrefix,
      @RequestParam(defaultValue = "desc") String order,
      @RequestParam(defaultValue = "100") int limit,
      @RequestParam(required = false) String cursor) {
    if (status != null && !JobStatus.isKnown(status)) {
      return problem(HttpStatus.BAD_REQUEST, "unknown status '" + status + "'", "status");
    }
    if (!order.equals("asc") && !order.equals("desc")) {
      return problem(HttpStatus.BAD_REQUEST, "order must be asc or desc", "order");
    }
    if (limit < 1 || limit > 1000) {
      return problem(HttpStatus.BAD_REQUEST, "limit must be between 1 and 1000", "limit");
    }
    boolean newestFirst = order.equals("desc");
    JobQueries.Position from = null;
    if (cursor != null) {
      from = decodeCursor(cursor, newestFirst);
      if (from == null) {
        return problem(
            HttpStatus.BAD_REQUEST,
            "cursor is not one this API gave out for order=" + order,
            "cursor");
      }
    }

    JobQueries.Page page =
        queries.list(
            new JobQueries.Filter(
                status,
                blankToNull(queue),
                blankToNull(worker),
                blankToNull(idPrefix),
                newestFirst,
                from),
            limit);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("jobs", page.jobs());
    body.put(
        "next_cursor",
        page.next() == null
            ? null
            : Base64.getUrlEncoder()
                .withoutPadding()
                .encodeToString(
                    ((newestFirst ? BEFORE : AFTER)
                            + micros(page.next().createdAt())
                            + ":"
                            + page.next().id())
                        .getBytes(StandardCharsets.UTF_8)));
    return ResponseEntity.ok(body);
  }

  private static String blankToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  /**
   * Marks a cursor as ours and says its order, so a made-up one, or one of the other order, is
   * refused instead of silently paging from it.
   */
  private static final String AFTER = "after:";

  private static final String BEFORE = "before:";

  /**
   * Where a cursor continues from (creation time in microseconds, then the id), or null if the
   * cursor is not one given for this order.
   */
  private static JobQueries.Position decodeCursor(String cursor, boolean newestFirst) {
    String prefix = newestFirst ? BEFORE : AFTER;
    try {
      String text = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
      if (!text.startsWith(prefix)) {
        return null;
      }
      String rest = text.substring(prefix.length());
      int colon = rest.indexOf(':');
      if (colon < 1 || colon == rest.length() - 1) {
        return null;
      }
      long micros = Long.parseLong(rest.substring(0, colon));
      java.time.Instant at =
          java.time.Instant.ofEpochSecond(
              Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000L);
      return new JobQueries.Position(
          java.time.OffsetDateTime.ofInstant(at, java.time.ZoneOffset.UTC),
          rest.substring(colon + 1));
    } catch (IllegalArgumentException | java.time.DateTimeException e) {
      return null;
    }
  }

  private static long micros(java.time.OffsetDateTime at) {
    java.time.Instant i = at.toInstant();
    return Math.addExact(Math.multiplyExact(i.getEpochSecond(), 1_000_000L), i.getNano() / 1000L);
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
