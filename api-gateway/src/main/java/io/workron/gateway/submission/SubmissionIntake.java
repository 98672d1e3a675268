package io.workron.gateway.submission;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.workron.gateway.GatewayProperties;
import io.workron.gateway.http.FieldProblem;
import io.workron.gateway.http.InvalidRequestException;
import io.workron.gateway.http.UnavailableException;
import io.workron.gateway.schedulercore.SchedulerCoreClient;
import io.workron.schemas.Ids;
import io.workron.schemas.JobSubmission;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.web.ErrorResponseException;
import tools.jackson.core.JacksonException;
import tools.jackson.core.exc.InputCoercionException;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.json.JsonMapper;

/**
 * The use case behind {@code POST /jobs}: check the request, make sure its dependencies exist, hand
 * it to Kafka, then give scheduler-core a moment to store it so most clients get the stored job
 * (201) rather than a promise (202). Counts every outcome.
 */
class SubmissionIntake {

  private static final Logger log = LoggerFactory.getLogger(SubmissionIntake.class);

  /** Largest body read; a valid submission (64 KiB command, 1000 dependencies) is far smaller. */
  static final int MAX_BODY_BYTES = 1024 * 1024;

  private static final Duration FIRST_PAUSE = Duration.ofMillis(10);
  private static final Duration LONGEST_PAUSE = Duration.ofMillis(200);

  enum Kind {
    /** scheduler-core stored the job within the created-wait: 201. */
    CREATED,
    /** In Kafka, not yet seen stored: 202. */
    ACCEPTED,
    /** The Idempotency-Key names a job that already exists: 200, nothing produced. */
    EXISTING
  }

  /** What happened to a submission; {@code job} is the stored job's JSON unless ACCEPTED. */
  record Outcome(Kind kind, String jobId, byte[] job) {}

  private final JsonMapper mapper;
  private final SchedulerCoreClient schedulerCore;
  private final SubmissionPublisher publisher;
  private final Clock clock;
  private final Duration createdWait;
  private final Map<String, Counter> outcomes;

  SubmissionIntake(
      JsonMapper mapper,
      SchedulerCoreClient schedulerCore,
      SubmissionPublisher publisher,
      Clock clock,
      GatewayProperties properties,
      MeterRegistry meters) {
    this.mapper = mapper;
    this.schedulerCore = schedulerCore;
    this.publisher = publisher;
    this.clock = clock;
    this.createdWait = properties.createdWait();
    this.outcomes =
        Map.of(
            "created", counter(meters, "created"),
            "accepted", counter(meters, "accepted"),
            "duplicate", counter(meters, "duplicate"),
            "rejected", counter(meters, "rejected"),
            "unavailable", counter(meters, "unavailable"));
  }

  Outcome submit(byte[] body, String idempotencyKey, String requestId) {
    try {
      Outcome outcome = submitCounted(body, idempotencyKey, requestId);
      count(
          switch (outcome.kind()) {
            case CREATED -> "created";
            case ACCEPTED -> "accepted";
            case EXISTING -> "duplicate";
          });
      return outcome;
    } catch (InvalidRequestException | ErrorResponseException e) {
      count("rejected");
      throw e;
    } catch (UnavailableException e) {
      count("unavailable");
      throw e;
    }
  }

  private Outcome submitCounted(byte[] body, String idempotencyKey, String requestId) {
    SubmissionRequest request = parse(body);
    List<FieldProblem> problems = SubmissionRules.check(request, idempotencyKey);
    if (!problems.isEmpty()) {
      throw new InvalidRequestException(problems);
    }
    String jobId =
        idempotencyKey == null ? Ids.newJobId(clock) : Ids.jobIdForIdempotencyKey(idempotencyKey);
    if (idempotencyKey != null) {
      Optional<byte[]> existing = existingJob(jobId);
      if (existing.isPresent()) {
        log.atInfo()
            .addKeyValue("job_id", jobId)
            .log(
                "Idempotency-Key names existing job {}; answering with it, producing nothing",
                jobId);
        return new Outcome(Kind.EXISTING, jobId, existing.get());
      }
    }
    JobSubmission submission = SubmissionRules.toSubmission(request, jobId, idempotencyKey);
    requireDependenciesExist(submission);
    publisher.publish(submission, requestId);
    log.atInfo()
        .addKeyValue("job_id", jobId)
        .log("job {} submitted to Kafka; scheduler-core will store it", jobId);
    return awaitStored(jobId);
  }

  private SubmissionRequest parse(byte[] body) {
    if (body.length > MAX_BODY_BYTES) {
      throw new ErrorResponseException(
          HttpStatus.CONTENT_TOO_LARGE,
          ProblemDetail.forStatusAndDetail(
              HttpStatus.CONTENT_TOO_LARGE,
              "request body is larger than " + MAX_BODY_BYTES + " bytes"),
          null);
    }
    if (body.length == 0) {
      throw new InvalidRequestException(null, "a JSON body is required");
    }
    SubmissionRequest request;
    try {
      request = mapper.readValue(body, SubmissionRequest.class);
    } catch (MismatchedInputException e) {
      String field = fieldOf(e);
      if (field == null) {
        throw new InvalidRequestException(null, "request body must be a JSON object");
      }
      throw new InvalidRequestException(field, field + " must be " + describe(e.getTargetType()));
    } catch (InputCoercionException e) {
      String field = fieldOf(e);
      throw new InvalidRequestException(
          field, (field == null ? "a number" : field) + " is out of range");
    } catch (JacksonException e) {
      throw new InvalidRequestException(
          fieldOf(e), "request body is not valid JSON: " + firstClause(e.getOriginalMessage()));
    }
    if (request == null) {
      throw new InvalidRequestException(null, "request body must be a JSON object");
    }
    return request;
  }

  /**
   * A lookup that cannot reach scheduler-core does not stop the submission: producing again under
   * the same id is harmless, because scheduler-core stores each job id once.
   */
  private Optional<byte[]> existingJob(String jobId) {
    try {
      return schedulerCore.job(jobId);
    } catch (UnavailableException e) {
      log.atDebug()
          .addKeyValue("job_id", jobId)
          .log("cannot look up the idempotent job; submitting it again, which is harmless");
      return Optional.empty();
    }
  }

  /** Unlike the lookup above, this check has no safe fallback: 503 when scheduler-core is down. */
  private void requireDependenciesExist(JobSubmission submission) {
    if (submission.dependsOn() == null) {
      return;
    }
    List<FieldProblem> missing = new ArrayList<>();
    for (String dependency : new LinkedHashSet<>(submission.dependsOn())) {
      if (schedulerCore.job(dependency).isEmpty()) {
        missing.add(
            new FieldProblem("depends_on", "dependency \"" + dependency + "\" does not exist"));
      }
    }
    if (!missing.isEmpty()) {
      throw new InvalidRequestException(missing);
    }
  }

  /**
   * Polls scheduler-core with a short, growing pause. A scheduler-core that cannot answer ends the
   * wait at once: the job is safe in Kafka, and waiting longer would not make it visible sooner.
   */
  private Outcome awaitStored(String jobId) {
    long deadline = System.nanoTime() + createdWait.toNanos();
    Duration pause = FIRST_PAUSE;
    while (true) {
      Optional<byte[]> stored;
      try {
        stored = schedulerCore.job(jobId);
      } catch (UnavailableException e) {
        return new Outcome(Kind.ACCEPTED, jobId, null);
      }
      if (stored.isPresent()) {
        return new Outcome(Kind.CREATED, jobId, stored.get());
      }
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0) {
        return new Outcome(Kind.ACCEPTED, jobId, null);
      }
      try {
        TimeUnit.NANOSECONDS.sleep(Math.min(remaining, pause.toNanos()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return new Outcome(Kind.ACCEPTED, jobId, null);
      }
      pause =
          pause.multipliedBy(2).compareTo(LONGEST_PAUSE) > 0
              ? LONGEST_PAUSE
              : pause.multipliedBy(2);
    }
  }

  /** The field as the client wrote it ({@code resources.vram_mb}, {@code depends_on[2]}). */
  static String fieldOf(JacksonException e) {
    StringBuilder field = new StringBuilder();
    for (JacksonException.Reference reference : e.getPath()) {
      if (reference.getPropertyName() != null) {
        if (!field.isEmpty()) {
          field.append('.');
        }
        field.append(reference.getPropertyName());
      } else if (reference.getIndex() >= 0) {
        field.append('[').append(reference.getIndex()).append(']');
      }
    }
    return field.isEmpty() ? null : field.toString();
  }

  /** Jackson's message without the parser-location noise ("(start marker at [Source: …"). */
  private static String firstClause(String message) {
    if (message == null) {
      return "unreadable";
    }
    String clause = message.lines().findFirst().orElse(message);
    int noise = clause.indexOf(" (start marker");
    if (noise < 0) {
      noise = clause.indexOf(" at [Source");
    }
    return noise < 0 ? clause : clause.substring(0, noise);
  }

  private static String describe(Class<?> type) {
    if (type == null) {
      return "of another type";
    }
    if (type == String.class) {
      return "a string";
    }
    if (Number.class.isAssignableFrom(type) || type.isPrimitive()) {
      return "an integer";
    }
    if (Iterable.class.isAssignableFrom(type) || type.isArray()) {
      return "an array";
    }
    return "an object";
  }

  private static Counter counter(MeterRegistry meters, String outcome) {
    return Counter.builder("workron.gateway.submissions")
        .description("POST /jobs requests by outcome")
        .tag("outcome", outcome)
        .register(meters);
  }

  private void count(String outcome) {
    outcomes.get(outcome).increment();
  }
}
