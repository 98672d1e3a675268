package io.workron.gateway.control;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.workron.gateway.http.ConflictException;
import io.workron.gateway.http.InvalidRequestException;
import io.workron.gateway.http.NotFoundException;
import io.workron.gateway.openapi.ApiModel;
import io.workron.gateway.schedulercore.SchedulerCoreClient;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Dead letters (admin scope): {@code GET /dead-letters} lists the dead-letter topics with their
 * counts and a page of dead letters, newest first, of one topic ({@code topic}, the dead-letter
 * topic or the topic it serves) or of all; {@code GET /dead-letters/{topic}/{partition}/{offset}}
 * shows one with its whole value; {@code POST …/replay} sends it back to the topic it was refused
 * from, once ({@code again=true} to send it once more).
 */
@RestController
class DeadLetterController {

  static final int MAX_LIMIT = 200;

  /** What Kafka allows in a topic name. */
  private static final Pattern TOPIC = Pattern.compile("[A-Za-z0-9._-]{1,249}");

  private final SchedulerCoreClient schedulerCore;

  DeadLetterController(SchedulerCoreClient schedulerCore) {
    this.schedulerCore = schedulerCore;
  }

  @Operation(
      summary = "Dead-letter topics and a page of dead letters, newest first",
      responses = {
        @ApiResponse(
            responseCode = "200",
            description = "the topics and a page",
            content =
                @Content(
                    mediaType = "application/json",
                    schema = @Schema(implementation = ApiModel.DeadLetterPage.class))),
        @ApiResponse(
            responseCode = "400",
            description = "topic, limit or cursor is not valid; field names it",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem")))
      })
  @GetMapping("/dead-letters")
  CompletableFuture<ResponseEntity<byte[]>> page(
      @Parameter(description = "a dead-letter topic, or the topic it serves; all when absent")
          @RequestParam(required = false)
          String topic,
      @Parameter(schema = @Schema(minimum = "1", maximum = "200", defaultValue = "50"))
          @RequestParam(required = false)
          String limit,
      @Parameter(description = "next_cursor of the page before") @RequestParam(required = false)
          String cursor) {
    StringBuilder path = new StringBuilder("?limit={limit}");
    Map<String, Object> values = new HashMap<>();
    values.put("limit", limit(limit));
    if (topic != null && !topic.isEmpty()) {
      checkTopic(topic);
      path.append("&topic={topic}");
      values.put("topic", topic);
    }
    if (cursor != null && !cursor.isEmpty()) {
      if (cursor.length() > 64 * 1024) {
        throw new InvalidRequestException("cursor", "cursor is not valid");
      }
      path.append("&cursor={cursor}");
      values.put("cursor", cursor);
    }
    return schedulerCore
        .deadLetters("GET", path.toString(), values)
        .thenApply(a -> relayed(a, null));
  }

  @Operation(
      summary = "One dead letter, with its whole value",
      responses = {
        @ApiResponse(
            responseCode = "200",
            description = "the dead letter",
            content =
                @Content(
                    mediaType = "application/json",
                    schema = @Schema(implementation = ApiModel.DeadLetter.class))),
        @ApiResponse(
            responseCode = "400",
            description = "topic is not a dead-letter topic of this deployment",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem"))),
        @ApiResponse(
            responseCode = "404",
            description = "no record at that offset (or gone with the topic's retention)",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem")))
      })
  @GetMapping("/dead-letters/{topic}/{partition}/{offset}")
  CompletableFuture<ResponseEntity<byte[]>> one(
      @PathVariable String topic, @PathVariable String partition, @PathVariable String offset) {
    return schedulerCore
        .deadLetters("GET", "/{topic}/{partition}/{offset}", where(topic, partition, offset))
        .thenApply(a -> relayed(a, where(topic, partition, offset)));
  }

  @Operation(
      summary = "Send a dead letter back to the topic it was refused from, after a fix",
      responses = {
        @ApiResponse(
            responseCode = "200",
            description = "sent: where it went",
            content =
                @Content(
                    mediaType = "application/json",
                    schema = @Schema(implementation = ApiModel.DeadLetterReplay.class))),
        @ApiResponse(
            responseCode = "400",
            description = "topic is not a dead-letter topic of this deployment",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem"))),
        @ApiResponse(
            responseCode = "404",
            description = "no record at that offset (or gone with the topic's retention)",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem"))),
        @ApiResponse(
            responseCode = "409",
            description =
                "a bounded copy, which cannot be replayed; or replayed before (again=true sends"
                    + " it once more)",
            content =
                @Content(
                    mediaType = "application/problem+json",
                    schema = @Schema(ref = "#/components/schemas/Problem")))
      })
  @PostMapping("/dead-letters/{topic}/{partition}/{offset}/replay")
  CompletableFuture<ResponseEntity<byte[]>> replay(
      @PathVariable String topic,
      @PathVariable String partition,
      @PathVariable String offset,
      @Parameter(description = "send it again although it was replayed before")
          @RequestParam(required = false)
          String again) {
    Map<String, Object> values = where(topic, partition, offset);
    boolean twice;
    if (again == null || again.equals("false")) {
      twice = false;
    } else if (again.equals("true")) {
      twice = true;
    } else {
      throw new InvalidRequestException("again", "again must be true or false");
    }
    values.put("again", twice);
    return schedulerCore
        .deadLetters("POST", "/{topic}/{partition}/{offset}/replay?again={again}", values)
        .thenApply(a -> relayed(a, values));
  }

  private static Map<String, Object> where(String topic, String partition, String offset) {
    checkTopic(topic);
    Map<String, Object> values = new HashMap<>();
    values.put("topic", topic);
    values.put("partition", number("partition", partition, Integer.MAX_VALUE));
    values.put("offset", number("offset", offset, Long.MAX_VALUE));
    return values;
  }

  private static void checkTopic(String topic) {
    if (!TOPIC.matcher(topic).matches()) {
      throw new InvalidRequestException(
          "topic", "topic must be a Kafka topic name: letters, digits, '.', '_', '-'");
    }
  }

  private static long number(String field, String text, long max) {
    try {
      long n = Long.parseLong(text);
      if (n >= 0 && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw new InvalidRequestException(field, field + " must be a whole number of at least 0");
  }

  private static int limit(String text) {
    if (text == null || text.isEmpty()) {
      return 50;
    }
    try {
      int n = Integer.parseInt(text);
      if (n >= 1 && n <= MAX_LIMIT) {
        return n;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw new InvalidRequestException("limit", "limit must be between 1 and " + MAX_LIMIT);
  }

  private static ResponseEntity<byte[]> relayed(
      SchedulerCoreClient.Answer a, Map<String, Object> where) {
    return switch (a.status()) {
      case 200 -> ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(a.raw());
      case 400 ->
          throw new InvalidRequestException(
              a.body().path("field").asString(null), a.body().path("detail").asString());
      case 404 ->
          throw new NotFoundException(
              a.body()
                  .path("detail")
                  .asString(
                      "no dead letter at "
                          + (where == null
                              ? "?"
                              : where.get("topic")
                                  + "/"
                                  + where.get("partition")
                                  + "@"
                                  + where.get("offset"))));
      case 409 -> {
        Map<String, Object> props = new HashMap<>();
        String field = a.body().path("field").asString(null);
        if (field != null) {
          props.put("field", field);
        }
        throw new ConflictException(a.body().path("detail").asString(), props);
      }
      default ->
          throw new IllegalStateException(
              "scheduler-core answered a dead-letter call with " + a.status());
    };
  }
}
