package io.workron.gateway.submission;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.workron.gateway.GatewayProperties;
import io.workron.gateway.http.FieldProblem;
import io.workron.gateway.http.ForbiddenException;
import io.workron.gateway.http.InvalidRequestException;
import io.workron.gateway.http.OverloadedException;
import io.workron.gateway.http.UnavailableException;
import io.workron.gateway.schedulercore.SchedulerCoreClient;
import io.workron.gateway.security.Scopes;
import io.workron.schemas.Ids;
import io.workron.schemas.JobSubmission;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.web.ErrorResponseException;
import tools.jackson.core.JacksonException;
import tools.jackson.core.exc.InputCoercionException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.json.JsonMapper;

/**
 * The use case behind {@code POST /jobs}: check the request and its dependencies, hand it to Kafka,
 * then give scheduler-core a moment to store it so most clients get the stored job (201) rather
 * than a promise (202). Counts every outcome.
 *
 * <p>Admission comes first: at most {@code max-concurrent-submissions} are in progress at once, and
 * one more is answered 429 before anything is produced. Waiting for "stored" is one long-poll that
 * scheduler-core answers when its ingest transaction commits, and holds no thread meanwhile.
 * Dependencies are checked in one batched call; one that is missing is looked for again after
 * ingestion has caught up with everything submitted so far, so a job accepted a moment ago (201 or
 * 202) is never refused as unknown.
 */
class SubmissionIntake {

  private static final Logger log = LoggerFactory.getLogger(SubmissionIntake.class);

  /** Largest body read; a valid submission (64 KiB command, 1000 dependencies) is far smaller. */
  static final int MAX_BODY_BYTES = 1024 * 1024;

  enum Kind {
    /** scheduler-core stored the job within the created-wait: 201. */
    CREATED,
    /** In Kafka, not yet seen stored: 202. */
    ACCEPTED,
    /** The Idempotency-Key names a job that already exists: 200, nothing produced. */
    EXISTING
  }

  /** What happened to a submission; {@code job} is the stored job's JSON unless ACCEPTED. */
  record Outcome(Kind kind, String jobId, byte[] job, String gangId, List<String> tasks) {
    Outcome(Kind kind, String jobId, byte[] job) {
      this(kind, jobId, job, null, null);
    }

    /** The same outcome, about a gang whose task 0 is {@code jobId}. */
    Outcome ofGang(String gang, List<String> taskIds) {
      return new Outcome(kind, jobId, job, gang, taskIds);
    }
  }

  private final JsonMapper mapper;
  private final SchedulerCoreClient schedulerCore;
  private final SubmissionPublisher publisher;
  private final SubmissionOffsets offsets;
  private final Bulkhead admission;
  private final Executor continuations;
  private final Clock clock;
  private final Duration createdWait;
  private final Map<String, Counter> outcomes;

  SubmissionIntake(
      JsonMapper mapper,
      SchedulerCoreClient schedulerCore,
      SubmissionPublisher publisher,
      SubmissionOffsets offsets,
      Bulkhead admission,
      Executor continuations,
      Clock clock,
      GatewayProperties properties,
      MeterRegistry meters) {
    this.mapper = mapper;
    this.schedulerCore = schedulerCore;
    this.publisher = publisher;
    this.offsets = offsets;
    this.admission = admission;
    this.continuations = continuations;
    this.clock = clock;
    this.createdWait = properties.createdWait();
    this.outcomes =
        Map.of(
            "created", counter(meters, "created"),
            "accepted", counter(meters, "accepted"),
            "duplicate", counter(meters, "duplicate"),
            "rejected", counter(meters, "rejected"),
            "unavailable", counter(meters, "unavailable"),
            "overloaded", counter(meters, "overloaded"));
  }

  /**
   * Checks and submits; what can be decided at once (a bad request, overload, a dependency problem)
   * is thrown at once, the rest completes the returned future.
   */
  CompletableFuture<Outcome> submit(
      byte[] body, String idempotencyKey, String requestId, Scopes.Grant caller) {
    CompletableFuture<Outcome> outcome;
    try {
      outcome = admitted(body, idempotencyKey, requestId, caller);
    } catch (RuntimeException e) {
      countFailure(e);
      throw e;
    }
    return outcome.whenComplete(
        (done, failure) -> {
          if (failure != null) {
            countFailure(failure);
          } else {
            count(
                switch (done.kind()) {
                  case CREATED -> "created";
                  case ACCEPTED -> "accepted";
                  case EXISTING -> "duplicate";
                });
          }
        });
  }

  private CompletableFuture<Outcome> admitted(
      byte[] body, String idempotencyKey, String requestId, Scopes.Grant caller) {
    SubmissionRequest request = parse(body);
    List<FieldProblem> problems = SubmissionRules.check(request, idempotencyKey);
    if (!problems.isEmpty()) {
      throw new InvalidRequestException(problems);
    }
    String queue =
        request.queueName() == null || request.queueName().isBlank()
            ? JobSubmission.DEFAULT_QUEUE
            : request.queueName();
    if (!caller.mayWrite(queue)) {
      throw new ForbiddenException(
          caller.name(), Scopes.WRITE + ":" + queue, "submitting to queue " + queue);
    }
    if (!admission.tryAcquirePermission()) {
      throw new OverloadedException(
          "the gateway already has "
              + admission.getBulkheadConfig().getMaxConcurrentCalls()
              + " submissions in progress; nothing was submitted, retry shortly");
    }
    CompletableFuture<Outcome> outcome;
    try {
      outcome = submitAdmitted(request, idempotencyKey, requestId, caller);
    } catch (RuntimeException e) {
      admission.onComplete();
      throw e;
    }
    return outcome.whenComplete((done, failure) -> admission.onComplete());
  }

  private CompletableFuture<Outcome> submitAdmitted(
      SubmissionRequest request, String idempotencyKey, String requestId, Scopes.Grant caller) {
    if (request.isGang()) {
      // a gang's id, like a job's, is chosen here; the outcome is that of its task 0, stored with
      // all the others in one transaction
      String gangId =
          idempotencyKey == null
              ? Ids.newMessageId("gang", clock)
              : "gang-" + Ids.jobIdForIdempotencyKey(idempotencyKey).substring("job-".length());
      JobSubmission gang =
          SubmissionRules.toSubmission(request, gangId, idempotencyKey, clock.instant());
      return submitOne(gang, JobSubmission.gangTaskId(gangId, 0), idempotencyKey, requestId, caller)
          .thenApply(o -> o.ofGang(gangId, gang.gangTaskIds()));
    }
    String jobId =
        idempotencyKey == null ? Ids.newJobId(clock) : Ids.jobIdForIdempotencyKey(idempotencyKey);
    JobSubmission submission =
        SubmissionRules.toSubmission(request, jobId, idempotencyKey, clock.instant());
    return submitOne(submission, jobId, idempotencyKey, requestId, caller);
  }

  /**
   * Produces {@code submission} unless its Idempotency-Key names a stored job, and waits for job
   * {@code jobId} (the job itself, or a gang's task 0) to be stored.
   */
  private CompletableFuture<Outcome> submitOne(
      JobSubmission submission,
      String jobId,
      String idempotencyKey,
      String requestId,
      Scopes.Grant caller) {
    CompletableFuture<Optional<byte[]>> existing =
        idempotencyKey == null
            ? CompletableFuture.completedFuture(Optional.empty())
            : existingJob(jobId);
    return existing.thenCompose(
        found -> {
          if (found.isPresent()) {
            // a queue token may not learn of, or answer with, another queue's job by its key
            String queue = mapper.readTree(found.get()).path("queue_name").asString("");
            if (!caller.mayWrite(queue)) {
              throw new ForbiddenException(
                  caller.name(),
                  Scopes.WRITE + ":" + queue,
                  "the job this Idempotency-Key names, in queue " + queue + ",");
            }
            log.atInfo()
                .addKeyValue("job_id", jobId)
                .log(
                    "Idempotency-Key names existing job {}; answering with it, producing nothing",
                    jobId);
            return CompletableFuture.completedFuture(
                new Outcome(Kind.EXISTING, jobId, found.get()));
          }
          return requireDependencies(submission)
              .thenCompose(checked -> publisher.publish(submission, requestId))
              // continue off the producer's I/O thread: it must stay free for acknowledgements
              .thenComposeAsync(
                  stored -> {
                    log.atInfo()
                        .addKeyValue("job_id", jobId)
                        .log("job {} submitted to Kafka; scheduler-core will store it", jobId);
                    return awaitStored(jobId, stored);
                  },
                  continuations);
        });
  }

  /**
   * A lookup that cannot reach scheduler-core does not stop the submission: producing again under
   * the same id is harmless, because scheduler-core stores each job id once.
   */
  private CompletableFuture<Optional<byte[]>> existingJob(String jobId) {
    return schedulerCore
        .job(jobId)
        .exceptionally(
            failure -> {
              if (!(unwrap(failure) instanceof UnavailableException)) {
                throw failure instanceof CompletionException c
                    ? c
                    : new CompletionException(failure);
              }
              log.atDebug()
                  .addKeyValue("job_id", jobId)
                  .log("cannot look up the idempotent job; submitting it again, which is harmless");
              return Optional.empty();
            });
  }

  /**
   * Refuses a dependency that does not exist, and one that would close a cycle. Unlike the lookup
   * above, this check has no safe fallback: 503 when scheduler-core cannot answer.
   *
   * <p>An id not stored yet may still be on its way: accepted by a gateway a moment ago, its
   * submission not yet ingested. So a missing id is asked about again, this time after
   * scheduler-core has ingested everything submitted before now (the end offsets of the submissions
   * topic), waiting up to the created-wait. Only then is it refused. If ingestion is so far behind
   * that it cannot tell in time, the job is accepted and waits for the id like a job submitted
   * through Kafka does (cancelled after {@code dependency-wait-timeout} if it never comes).
   */
  private CompletableFuture<Void> requireDependencies(JobSubmission submission) {
    if (submission.dependsOn() == null || submission.dependsOn().isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    List<String> dependencies = List.copyOf(new LinkedHashSet<>(submission.dependsOn()));
    if (dependencies.contains(submission.id())) {
      throw new InvalidRequestException("depends_on", "a job cannot depend on itself");
    }
    return schedulerCore
        .existing(dependencies, submission.id(), Map.of(), Duration.ZERO)
        .thenCompose(
            known -> {
              refuseCycle(known);
              if (known.missing().isEmpty()) {
                return CompletableFuture.completedFuture(known);
              }
              // rare: look up how far the topic goes (a blocking admin call) off the caller's
              // thread, then ask again once ingestion has caught up with it
              return CompletableFuture.supplyAsync(offsets::endOffsets, continuations)
                  .thenCompose(
                      submittedSoFar ->
                          schedulerCore.existing(
                              known.missing(), submission.id(), submittedSoFar, createdWait));
            })
        .thenAccept(
            settled -> {
              refuseCycle(settled);
              if (settled.missing().isEmpty()) {
                return;
              }
              if (!settled.caughtUp()) {
                log.atInfo()
                    .addKeyValue("job_id", submission.id())
                    .log(
                        "ingestion is behind; cannot tell yet whether dependencies {} exist, so"
                            + " job {} will wait for them",
                        settled.missing(),
                        submission.id());
                return;
              }
              List<FieldProblem> missing = new ArrayList<>();
              for (String dependency : settled.missing()) {
                missing.add(
                    new FieldProblem(
                        "depends_on", "dependency \"" + dependency + "\" does not exist"));
              }
              throw new InvalidRequestException(missing);
            });
  }

  private static Throwable unwrap(Throwable failure) {
    return failure instanceof CompletionException && failure.getCause() != null
        ? failure.getCause()
        : failure;
  }

  private static void refuseCycle(SchedulerCoreClient.Existence existence) {
    if (!existence.cycle().isEmpty()) {
      throw new InvalidRequestException(
          "depends_on",
          "depending on these jobs would form a cycle: " + String.join(" -> ", existence.cycle()));
    }
  }

  /**
   * One long-poll: scheduler-core answers when its ingest transaction has committed the record
   * Kafka acknowledged at {@code stored}. A scheduler-core that cannot answer ends the wait: the
   * job is safe in Kafka, and waiting longer would not make it visible sooner.
   */
  private CompletableFuture<Outcome> awaitStored(String jobId, RecordMetadata stored) {
    if (createdWait.isZero()) {
      return CompletableFuture.completedFuture(new Outcome(Kind.ACCEPTED, jobId, null));
    }
    return schedulerCore
        .awaitStored(jobId, stored.partition(), stored.offset(), createdWait)
        .handle(
            (job, failure) -> {
              if (failure != null) {
                log.atDebug()
                    .addKeyValue("job_id", jobId)
                    .log("could not wait for job {} to be stored: {}", jobId, failure.toString());
                return new Outcome(Kind.ACCEPTED, jobId, null);
              }
              return job.map(j -> new Outcome(Kind.CREATED, jobId, j))
                  .orElseGet(() -> new Outcome(Kind.ACCEPTED, jobId, null));
            });
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
      JsonNode tree = mapper.readTree(body);
      if (tree == null || !tree.isObject()) {
        throw new InvalidRequestException(null, "request body must be a JSON object");
      }
      refuseUnknownFields(tree);
      request = mapper.treeToValue(tree, SubmissionRequest.class);
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
   * Every key of the body must be one this API reads, or one of the seed's job JSON (which its
   * clients may send back as they got it; those are ignored). A key the API does not know is most
   * likely a typo or a feature this version lacks, and dropping it silently would run the job other
   * than the client believes.
   */
  private static void refuseUnknownFields(JsonNode tree) {
    List<FieldProblem> problems = new ArrayList<>();
    for (Map.Entry<String, JsonNode> field : tree.properties()) {
      if (!SubmissionRequest.ACCEPTED_KEYS.contains(field.getKey())) {
        problems.add(unknown(field.getKey()));
      }
    }
    JsonNode resources = tree.get("resources");
    if (resources != null && resources.isObject()) {
      for (Map.Entry<String, JsonNode> field : resources.properties()) {
        if (!SubmissionRequest.RESOURCE_KEYS.contains(field.getKey())) {
          problems.add(unknown("resources." + field.getKey()));
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new InvalidRequestException(problems);
    }
  }

  private static FieldProblem unknown(String field) {
    return new FieldProblem(field, field + " is not a field of a job submission");
  }

  private void countFailure(Throwable failure) {
    Throwable e = unwrap(failure);
    if (e instanceof InvalidRequestException
        || e instanceof ErrorResponseException
        || e instanceof ForbiddenException) {
      count("rejected");
    } else if (e instanceof UnavailableException) {
      count("unavailable");
    } else if (e instanceof OverloadedException) {
      count("overloaded");
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
