package io.workron.gateway.submission;

import io.workron.gateway.http.FieldProblem;
import io.workron.schemas.JobSubmission;
import io.workron.schemas.Resources;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What {@code POST /jobs} accepts: the {@code job.submitted.v1} schema's limits, checked here so a
 * client hears about a mistake as a 400 naming the field instead of its job vanishing into the
 * dead-letter topic. Plain Java, no Spring.
 */
final class SubmissionRules {

  static final String IDEMPOTENCY_KEY_HEADER = "Idempotency-Key";

  static final int MAX_DEPENDENCIES = 1000;
  static final int MAX_PRIORITY = 1_000_000;
  static final int MAX_QUEUE_NAME_LENGTH = 128;
  static final int MAX_IDEMPOTENCY_KEY_LENGTH = 256;
  static final int MIN_MAX_RETRIES = 1;
  static final int MAX_MAX_RETRIES = 100;

  private static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._:-]{0,127}");

  private SubmissionRules() {}

  /** Everything wrong with the request, in the order of its fields; empty when acceptable. */
  static List<FieldProblem> check(SubmissionRequest request, String idempotencyKey) {
    List<FieldProblem> problems = new ArrayList<>();
    if (request.command() == null || request.command().isBlank()) {
      problems.add(new FieldProblem("command", "command is required and must not be blank"));
    } else if (request.command().length() > JobSubmission.MAX_COMMAND_LENGTH) {
      problems.add(
          new FieldProblem(
              "command",
              "command is longer than " + JobSubmission.MAX_COMMAND_LENGTH + " characters"));
    } else if (request.command().indexOf('\u0000') >= 0) {
      problems.add(new FieldProblem("command", "command must not contain NUL characters"));
    }
    List<String> dependsOn = request.dependsOn() == null ? List.of() : request.dependsOn();
    if (dependsOn.size() > MAX_DEPENDENCIES) {
      problems.add(
          new FieldProblem(
              "depends_on", "a job may depend on at most " + MAX_DEPENDENCIES + " jobs"));
    }
    for (String dependency : dependsOn) {
      if (dependency == null || !JOB_ID.matcher(dependency).matches()) {
        problems.add(
            new FieldProblem(
                "depends_on", "dependency " + quoted(dependency) + " is not a valid job id"));
        break;
      }
    }
    if (request.resources() != null) {
      checkNotNegative(request.resources().vramMb(), "resources.vram_mb", problems);
      checkNotNegative(request.resources().memoryMb(), "resources.memory_mb", problems);
    }
    if (request.priority() != null && Math.abs((long) request.priority()) > MAX_PRIORITY) {
      problems.add(
          new FieldProblem(
              "priority", "priority must be between -" + MAX_PRIORITY + " and " + MAX_PRIORITY));
    }
    if (request.queueName() != null && request.queueName().indexOf('\u0000') >= 0) {
      problems.add(new FieldProblem("queue_name", "queue_name must not contain NUL characters"));
    }
    if (request.queueName() != null && request.queueName().length() > MAX_QUEUE_NAME_LENGTH) {
      problems.add(
          new FieldProblem(
              "queue_name", "queue_name is longer than " + MAX_QUEUE_NAME_LENGTH + " characters"));
    }
    if (request.maxRetries() != null
        && (request.maxRetries() < MIN_MAX_RETRIES || request.maxRetries() > MAX_MAX_RETRIES)) {
      problems.add(
          new FieldProblem(
              "max_retries",
              "max_retries (total attempts) must be between "
                  + MIN_MAX_RETRIES
                  + " and "
                  + MAX_MAX_RETRIES));
    }
    if (request.timeoutSeconds() != null
        && (request.timeoutSeconds() < 1
            || request.timeoutSeconds() > JobSubmission.MAX_TIMEOUT_SECONDS)) {
      problems.add(
          new FieldProblem(
              "timeout_seconds",
              "timeout_seconds must be a whole number of seconds between 1 and "
                  + JobSubmission.MAX_TIMEOUT_SECONDS));
    }
    if (request.concurrencyKey() != null
        && (request.concurrencyKey().length() > JobSubmission.MAX_CONCURRENCY_KEY_LENGTH
            || request.concurrencyKey().indexOf('\u0000') >= 0)) {
      problems.add(
          new FieldProblem(
              "concurrency_key",
              "concurrency_key must be at most "
                  + JobSubmission.MAX_CONCURRENCY_KEY_LENGTH
                  + " characters, without NUL"));
    }
    if (request.runAt() != null && parseRunAt(request.runAt()) == null) {
      problems.add(
          new FieldProblem(
              "run_at", "run_at must be an RFC 3339 date-time, for example 2026-12-01T18:00:00Z"));
    }
    if (request.delaySeconds() != null
        && (request.delaySeconds() < 0
            || request.delaySeconds() > JobSubmission.MAX_DELAY_SECONDS)) {
      problems.add(
          new FieldProblem(
              "delay_seconds",
              "delay_seconds must be a whole number of seconds between 0 and "
                  + JobSubmission.MAX_DELAY_SECONDS));
    }
    if (request.runAt() != null && request.delaySeconds() != null) {
      problems.add(new FieldProblem("delay_seconds", "give run_at or delay_seconds, not both"));
    }
    if (request.gangSize() != null) {
      if (request.gangSize() < 0) {
        problems.add(new FieldProblem("gang_size", "gang_size must not be negative"));
      } else if (request.gangSize() > JobSubmission.MAX_GANG_SIZE) {
        problems.add(
            new FieldProblem(
                "gang_size", "gang_size must be at most " + JobSubmission.MAX_GANG_SIZE));
      } else if (request.isGang()) {
        if (request.dependsOn() != null && !request.dependsOn().isEmpty()) {
          problems.add(
              new FieldProblem(
                  "depends_on",
                  "a gang cannot have depends_on (yet): submit it once they are done"));
        }
        if (request.concurrencyKey() != null) {
          problems.add(new FieldProblem("concurrency_key", "a gang cannot have a concurrency_key"));
        }
      }
    }
    if (idempotencyKey != null
        && (idempotencyKey.isBlank() || idempotencyKey.length() > MAX_IDEMPOTENCY_KEY_LENGTH)) {
      problems.add(
          new FieldProblem(
              IDEMPOTENCY_KEY_HEADER,
              "Idempotency-Key must be 1 to " + MAX_IDEMPOTENCY_KEY_LENGTH + " characters"));
    }
    return problems;
  }

  /**
   * The payload of {@code job.submitted.v1} for a request that passed {@link #check}. Fields the
   * client left out stay null: scheduler-core applies the defaults. Repeated dependencies collapse
   * into one, since the schema wants them unique and they mean the same.
   */
  static JobSubmission toSubmission(
      SubmissionRequest request, String jobId, String idempotencyKey, java.time.Instant now) {
    List<String> dependsOn =
        request.dependsOn() == null || request.dependsOn().isEmpty()
            ? null
            : List.copyOf(new LinkedHashSet<>(request.dependsOn()));
    Resources resources =
        request.resources() == null
            ? null
            : new Resources(
                orZero(request.resources().vramMb()), orZero(request.resources().memoryMb()));
    String queueName =
        request.queueName() == null || request.queueName().isBlank() ? null : request.queueName();
    return new JobSubmission(
        jobId,
        request.command(),
        dependsOn,
        resources,
        request.priority(),
        queueName,
        request.maxRetries(),
        idempotencyKey,
        request.timeoutSeconds(),
        request.concurrencyKey(),
        // a delay becomes a time here, so that a redelivered submission does not move it
        request.runAt() != null
            ? parseRunAt(request.runAt())
            : request.delaySeconds() == null ? null : now.plusSeconds(request.delaySeconds()),
        null,
        request.isGang() ? request.gangSize() : null,
        request.preemptible());
  }

  /** An RFC 3339 date-time ({@code 2026-12-01T18:00:00Z}, or with an offset), or null. */
  static java.time.Instant parseRunAt(String text) {
    try {
      return java.time.OffsetDateTime.parse(text).toInstant();
    } catch (java.time.format.DateTimeParseException e) {
      return null;
    }
  }

  private static void checkNotNegative(Long value, String field, List<FieldProblem> problems) {
    if (value != null && value < 0) {
      problems.add(new FieldProblem(field, field + " must not be negative"));
    }
  }

  private static long orZero(Long value) {
    return value == null ? 0 : value;
  }

  private static String quoted(String value) {
    if (value == null) {
      return "null";
    }
    return "\"" + (value.length() > 130 ? value.substring(0, 130) + "…" : value) + "\"";
  }
}
