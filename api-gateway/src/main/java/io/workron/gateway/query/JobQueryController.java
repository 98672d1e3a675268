package io.workron.gateway.query;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.headers.Header;
import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.workron.gateway.http.FieldProblem;
import io.workron.gateway.http.InvalidRequestException;
import io.workron.gateway.http.NotFoundException;
import io.workron.gateway.openapi.ApiModel;
import io.workron.gateway.schedulercore.JobPage;
import io.workron.gateway.schedulercore.SchedulerCoreClient;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.util.UriComponentsBuilder;
import tools.jackson.databind.JsonNode;

/**
 * {@code GET /jobs} and {@code GET /jobs/{id}}, read through scheduler-core, asynchronously. The
 * list stays a JSON array as in the seed, so old clients keep working; the next page is offered in
 * headers ({@code X-Next-Cursor} and an RFC 8288 {@code Link: <…>; rel="next"}), which old clients
 * ignore.
 */
@RestController
class JobQueryController {

  static final String NEXT_CURSOR_HEADER = "X-Next-Cursor";
  static final int DEFAULT_LIMIT = 100;
  static final int MAX_LIMIT = 1000;

  private static final Set<String> STATUSES = Set.copyOf(JobStatuses.ALL);

  private final SchedulerCoreClient schedulerCore;

  JobQueryController(SchedulerCoreClient schedulerCore) {
    this.schedulerCore = schedulerCore;
  }

  @Operation(
      summary =
          "List jobs newest first by default (by creation time, then id), filtered by status,"
              + " queue, worker and id prefix, a page at a time",
      responses = {
        @ApiResponse(
            responseCode = "200",
            description = "a page of jobs; the next page is in X-Next-Cursor and Link",
            headers = {
              @Header(
                  name = "X-Next-Cursor",
                  description = "cursor of the next page; absent on the last"),
              @Header(name = "Link", description = "RFC 8288: <...>; rel=\"next\"")
            },
            content =
                @Content(
                    mediaType = "application/json",
                    array = @ArraySchema(schema = @Schema(implementation = ApiModel.Job.class)))),
        @ApiResponse(
            responseCode = "400",
            description =
                "status, queue, worker, id_prefix, order, limit or cursor is not valid; field"
                    + " names it",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem")))
      })
  @GetMapping("/jobs")
  CompletableFuture<ResponseEntity<JsonNode>> list(
      @Parameter(
              description = "only jobs in this status",
              schema =
                  @Schema(
                      allowableValues = {
                        "blocked",
                        "pending",
                        "reserved",
                        "running",
                        "preempting",
                        "preempted",
                        "done",
                        "failed",
                        "cancelled"
                      }))
          @RequestParam(required = false)
          String status,
      @Parameter(description = "only jobs of this queue", schema = @Schema(maxLength = 128))
          @RequestParam(required = false)
          String queue,
      @Parameter(
              description = "only jobs whose latest attempt is on this worker",
              schema = @Schema(maxLength = 128))
          @RequestParam(required = false)
          String worker,
      @Parameter(
              name = "id_prefix",
              description = "only jobs whose id starts with this",
              schema = @Schema(maxLength = 128))
          @RequestParam(name = "id_prefix", required = false)
          String idPrefix,
      @Parameter(
              description = "desc (newest first, the default) or asc",
              schema = @Schema(allowableValues = {"desc", "asc"}))
          @RequestParam(required = false)
          String order,
      @Parameter(
              description = "jobs per page, 1 to 1000; default 100",
              schema = @Schema(type = "integer", minimum = "1", maximum = "1000"))
          @RequestParam(required = false)
          String limit,
      @Parameter(description = "X-Next-Cursor of the previous page") @RequestParam(required = false)
          String cursor) {
    List<FieldProblem> problems = new ArrayList<>();
    if (status != null && !STATUSES.contains(status)) {
      problems.add(
          new FieldProblem(
              "status",
              "unknown status \""
                  + status
                  + "\"; one of blocked, pending, reserved, running, preempting, preempted,"
                  + " done, failed, cancelled"));
    }
    Map<String, String> query = new LinkedHashMap<>();
    if (status != null && !status.isEmpty()) {
      query.put("status", status);
    }
    text("queue", queue, query, problems);
    text("worker", worker, query, problems);
    text("id_prefix", idPrefix, query, problems);
    if (order != null && !order.isEmpty()) {
      if (order.equals("asc") || order.equals("desc")) {
        query.put("order", order);
      } else {
        problems.add(new FieldProblem("order", "order must be desc (newest first) or asc"));
      }
    }
    int pageSize = parseLimit(limit, problems);
    if (!problems.isEmpty()) {
      throw new InvalidRequestException(problems);
    }
    String from = cursor == null || cursor.isEmpty() ? null : cursor;
    return schedulerCore
        .jobs(query, pageSize, from)
        .thenApply(
            page -> {
              HttpHeaders headers = new HttpHeaders();
              if (page.nextCursor() != null) {
                headers.set(NEXT_CURSOR_HEADER, page.nextCursor());
                headers.set(
                    HttpHeaders.LINK, "<" + nextPage(query, pageSize, page) + ">; rel=\"next\"");
              }
              return ResponseEntity.ok()
                  .headers(headers)
                  .contentType(MediaType.APPLICATION_JSON)
                  .body(page.jobs());
            });
  }

  /** A text filter: at most 128 characters without NUL; empty is no filter. */
  private static void text(
      String field, String value, Map<String, String> query, List<FieldProblem> problems) {
    if (value == null || value.isEmpty()) {
      return;
    }
    if (value.length() > 128 || value.indexOf('\u0000') >= 0) {
      problems.add(new FieldProblem(field, field + " is at most 128 characters, without NUL"));
      return;
    }
    query.put(field, value);
  }

  @Operation(
      summary = "A job, with its attempts and output tail",
      responses = {
        @ApiResponse(
            responseCode = "200",
            description = "the job",
            content =
                @Content(
                    mediaType = "application/json",
                    schema = @Schema(implementation = ApiModel.Job.class))),
        @ApiResponse(
            responseCode = "404",
            description = "no such job",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem")))
      })
  @GetMapping("/jobs/{id}")
  CompletableFuture<ResponseEntity<byte[]>> job(@PathVariable String id) {
    return schedulerCore
        .job(id)
        .thenApply(
            job ->
                ResponseEntity.ok()
                    .contentType(MediaType.APPLICATION_JSON)
                    .body(
                        job.orElseThrow(
                            () -> new NotFoundException("job \"" + id + "\" does not exist"))));
  }

  /**
   * {@code GET /jobs/{id}/checkpoint}: the bytes the job last left in its {@code
   * WORKRON_CHECKPOINT_FILE} ({@code application/octet-stream}), or 204 when it has none.
   */
  @Operation(
      summary = "The job's last checkpoint, as the job wrote it",
      responses = {
        @ApiResponse(
            responseCode = "200",
            description = "the checkpoint's bytes",
            content =
                @Content(
                    mediaType = "application/octet-stream",
                    schema = @Schema(type = "string", format = "binary"))),
        @ApiResponse(
            responseCode = "204",
            description = "the job has no checkpoint",
            content = @Content),
        @ApiResponse(
            responseCode = "404",
            description = "no such job",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem")))
      })
  @GetMapping("/jobs/{id}/checkpoint")
  CompletableFuture<ResponseEntity<byte[]>> checkpoint(@PathVariable String id) {
    return schedulerCore
        .checkpoint(id)
        .thenApply(
            bytes -> {
              byte[] b =
                  bytes.orElseThrow(
                      () -> new NotFoundException("job \"" + id + "\" does not exist"));
              return b.length == 0
                  ? ResponseEntity.noContent().<byte[]>build()
                  : ResponseEntity.ok().contentType(MediaType.APPLICATION_OCTET_STREAM).body(b);
            });
  }

  /**
   * {@code GET /gangs/{id}}: the gang's tasks in {@code gang_index} order (the seed's shape), each
   * with its worker, {@code preemption_epoch} and {@code checkpoint_bytes}.
   */
  @Operation(
      summary = "A gang's tasks, in gang_index order",
      responses = {
        @ApiResponse(
            responseCode = "200",
            description = "the tasks, each with checkpoint_bytes",
            content =
                @Content(
                    mediaType = "application/json",
                    array = @ArraySchema(schema = @Schema(implementation = ApiModel.Job.class)))),
        @ApiResponse(
            responseCode = "404",
            description = "no such gang",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem")))
      })
  @GetMapping("/gangs/{id}")
  CompletableFuture<ResponseEntity<byte[]>> gang(@PathVariable String id) {
    return gangView(id, false);
  }

  /**
   * {@code GET /gangs/{id}/summary}: the gang's own status, why it waits if it does, and its drain
   * rounds.
   */
  @Operation(
      summary = "A gang as a whole: status, wait reason, drain rounds",
      responses = {
        @ApiResponse(
            responseCode = "200",
            description = "the gang",
            content =
                @Content(
                    mediaType = "application/json",
                    schema = @Schema(implementation = ApiModel.GangSummary.class))),
        @ApiResponse(
            responseCode = "404",
            description = "no such gang",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem")))
      })
  @GetMapping("/gangs/{id}/summary")
  CompletableFuture<ResponseEntity<byte[]>> gangSummary(@PathVariable String id) {
    return gangView(id, true);
  }

  private CompletableFuture<ResponseEntity<byte[]>> gangView(String id, boolean summary) {
    return schedulerCore
        .gang(id, summary)
        .thenApply(
            gang ->
                ResponseEntity.ok()
                    .contentType(MediaType.APPLICATION_JSON)
                    .body(
                        gang.orElseThrow(
                            () -> new NotFoundException("gang \"" + id + "\" does not exist"))));
  }

  /**
   * {@code GET /jobs/{id}/output}: the job's output tail as {@code text/plain}, so {@code curl}
   * prints it; while the job runs, its recent output (sent by its worker every few seconds).
   */
  @Operation(
      summary = "The job's output tail as text; while it runs, its recent output",
      responses = {
        @ApiResponse(
            responseCode = "200",
            description = "the output",
            content = @Content(mediaType = "text/plain", schema = @Schema(type = "string"))),
        @ApiResponse(
            responseCode = "404",
            description = "no such job",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem")))
      })
  @GetMapping("/jobs/{id}/output")
  CompletableFuture<ResponseEntity<byte[]>> output(@PathVariable String id) {
    return schedulerCore
        .output(id)
        .thenApply(
            text ->
                ResponseEntity.ok()
                    .contentType(
                        new MediaType("text", "plain", java.nio.charset.StandardCharsets.UTF_8))
                    .body(
                        text.orElseThrow(
                            () -> new NotFoundException("job \"" + id + "\" does not exist"))));
  }

  private static int parseLimit(String limit, List<FieldProblem> problems) {
    if (limit == null || limit.isEmpty()) {
      return DEFAULT_LIMIT;
    }
    try {
      int value = Integer.parseInt(limit);
      if (value >= 1 && value <= MAX_LIMIT) {
        return value;
      }
    } catch (NumberFormatException e) {
      // reported below, like an out-of-range number
    }
    problems.add(new FieldProblem("limit", "limit must be an integer between 1 and " + MAX_LIMIT));
    return DEFAULT_LIMIT;
  }

  private static String nextPage(Map<String, String> query, int limit, JobPage page) {
    Map<String, Object> values = new HashMap<>(query);
    values.put("limit", limit);
    values.put("cursor", page.nextCursor());
    UriComponentsBuilder next =
        UriComponentsBuilder.fromPath("/jobs")
            .queryParam("limit", "{limit}")
            .queryParam("cursor", "{cursor}");
    query.keySet().forEach(name -> next.queryParam(name, "{" + name + "}"));
    // variables are encoded strictly, so a cursor holding '+', '&' or '{' survives the round trip
    return next.encode().buildAndExpand(values).toUriString();
  }
}
