package io.workron.gateway.openapi;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.media.Schema.RequiredMode;
import java.util.List;
import java.util.Map;

/**
 * The shapes of the REST API's bodies, for the OpenAPI document only: the gateway relays
 * scheduler-core's JSON as it is, so these types are never serialized. Fields that only some
 * answers carry (a job's {@code gang_id}, a finished attempt's {@code exit_code}) are optional;
 * clients must ignore fields they do not know, as later versions add some.
 */
public final class ApiModel {

  private ApiModel() {}

  private static final String ID = "^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$";

  @Schema(name = "Resources", description = "What a job asks for, or a worker offers.")
  public record Resources(
      @JsonProperty("vram_mb") @Schema(minimum = "0") Long vramMb,
      @JsonProperty("memory_mb") @Schema(minimum = "0") Long memoryMb) {}

  @Schema(name = "Attempt", description = "One attempt of a job, in attempt order.")
  public record Attempt(
      @Schema(requiredMode = RequiredMode.REQUIRED) int attempt,
      @JsonProperty("worker_id") @Schema(requiredMode = RequiredMode.REQUIRED) String workerId,
      @Schema(requiredMode = RequiredMode.REQUIRED) String incarnation,
      @JsonProperty("dispatched_at") @Schema(format = "date-time") String dispatchedAt,
      @JsonProperty("started_at") @Schema(format = "date-time") String startedAt,
      @JsonProperty("finished_at") @Schema(format = "date-time") String finishedAt,
      @JsonProperty("exit_code") Integer exitCode,
      @Schema(description = "succeeded, failed, lost, cancelled, ...") String outcome,
      String reason,
      @JsonProperty("checkpoint_note") String checkpointNote) {}

  @Schema(name = "Job", description = "A job, as GET /jobs/{id} shows it (the seed's job JSON).")
  public record Job(
      @Schema(requiredMode = RequiredMode.REQUIRED, pattern = ID) String id,
      @Schema(requiredMode = RequiredMode.REQUIRED) String command,
      @Schema(
              requiredMode = RequiredMode.REQUIRED,
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
              })
          String status,
      @JsonProperty("created_at") @Schema(format = "date-time") String createdAt,
      @JsonProperty("started_at") @Schema(format = "date-time") String startedAt,
      @JsonProperty("done_at") @Schema(format = "date-time") String doneAt,
      @JsonProperty("last_heart_beat") @Schema(format = "date-time") String lastHeartBeat,
      @JsonProperty("max_retries")
          @Schema(requiredMode = RequiredMode.REQUIRED, description = "total attempts allowed")
          int maxRetries,
      @Schema(requiredMode = RequiredMode.REQUIRED, description = "attempts started so far")
          int attempts,
      @JsonProperty("depends_on") List<String> dependsOn,
      Resources resources,
      @JsonProperty("worker_id") String workerId,
      Integer priority,
      @JsonProperty("queue_name") @Schema(requiredMode = RequiredMode.REQUIRED) String queueName,
      @JsonProperty("timeout_seconds") Integer timeoutSeconds,
      @JsonProperty("concurrency_key") String concurrencyKey,
      @JsonProperty("exit_code") Integer exitCode,
      @JsonProperty("failure_reason") String failureReason,
      @JsonProperty("cancel_requested_at") @Schema(format = "date-time") String cancelRequestedAt,
      @JsonProperty("wait_reason")
          @Schema(
              description =
                  "why a pending job does not start (a resource no worker has), or what a blocked"
                      + " one waits for")
          String waitReason,
      @JsonProperty("gang_id") String gangId,
      @JsonProperty("gang_index") Integer gangIndex,
      @JsonProperty("preemption_epoch") Integer preemptionEpoch,
      @JsonProperty("reserved_at") @Schema(format = "date-time") String reservedAt,
      @JsonProperty("drain_started_at") @Schema(format = "date-time") String drainStartedAt,
      Boolean preemptible,
      @JsonProperty("run_at") @Schema(format = "date-time") String runAt,
      @Schema(description = "the tail of the job's output") String output,
      @JsonProperty("output_truncated") Boolean outputTruncated,
      @JsonProperty("checkpoint_bytes")
          @Schema(description = "in GET /gangs/{id}: the size of the task's last checkpoint")
          Long checkpointBytes,
      @JsonProperty("attempt_history") List<Attempt> attemptHistory,
      @Schema(description = "changes made to the job or its gang through the API, oldest first")
          List<AuditEvent> audit) {}

  @Schema(
      name = "AuditEvent",
      description =
          "A change made through the API: who (the token's name, never the token) and which"
              + " request")
  public record AuditEvent(
      @Schema(requiredMode = RequiredMode.REQUIRED, format = "date-time") String at,
      @Schema(
              requiredMode = RequiredMode.REQUIRED,
              example = "job.cancel",
              description = "job.cancel, job.retry or gang.cancel")
          String action,
      @Schema(
              requiredMode = RequiredMode.REQUIRED,
              description = "the name of the token that asked; anonymous when auth is off")
          String actor,
      @JsonProperty("request_id") String requestId) {}

  @Schema(name = "Accepted", description = "In Kafka, not stored yet: it appears at Location.")
  public record Accepted(
      @Schema(requiredMode = RequiredMode.REQUIRED) String id,
      @Schema(requiredMode = RequiredMode.REQUIRED, allowableValues = "accepted") String status) {}

  @Schema(name = "GangSubmitted", description = "A gang's answer: its id and its tasks' ids.")
  public record GangSubmitted(
      @JsonProperty("gang_id") @Schema(requiredMode = RequiredMode.REQUIRED) String gangId,
      @Schema(requiredMode = RequiredMode.REQUIRED) List<String> tasks,
      @Schema(description = "accepted while the gang is in Kafka and not yet stored")
          String status) {}

  @Schema(name = "JobRetried", description = "The job again, and the jobs revived with it.")
  public record JobRetried(
      @Schema(requiredMode = RequiredMode.REQUIRED) String id,
      @Schema(requiredMode = RequiredMode.REQUIRED) String status,
      @Schema(description = "with ?cascade=true: jobs cancelled because of it that wait again")
          List<String> revived) {}

  @Schema(name = "GangTask")
  public record GangTask(
      @Schema(requiredMode = RequiredMode.REQUIRED) String id,
      @JsonProperty("gang_index") @Schema(requiredMode = RequiredMode.REQUIRED) int gangIndex,
      @Schema(requiredMode = RequiredMode.REQUIRED) String status,
      @JsonProperty("worker_id") String workerId,
      @Schema(requiredMode = RequiredMode.REQUIRED) int attempts) {}

  @Schema(name = "GangDrain", description = "One drain round of a gang.")
  public record GangDrain(
      @Schema(requiredMode = RequiredMode.REQUIRED) int epoch,
      @JsonProperty("trigger_job") String triggerJob,
      String reason,
      @JsonProperty("started_at") @Schema(format = "date-time") String startedAt,
      @JsonProperty("ended_at") @Schema(format = "date-time") String endedAt,
      @JsonProperty("duration_ms") Long durationMs,
      @JsonProperty("ordered_stopped") Integer orderedStopped,
      Integer acks,
      Integer forced,
      String outcome) {}

  @Schema(name = "GangSummary", description = "A gang as a whole.")
  public record GangSummary(
      @JsonProperty("gang_id") @Schema(requiredMode = RequiredMode.REQUIRED) String gangId,
      @Schema(requiredMode = RequiredMode.REQUIRED) int size,
      @Schema(requiredMode = RequiredMode.REQUIRED) String status,
      @JsonProperty("wait_reason") String waitReason,
      @JsonProperty("unschedulable_since") @Schema(format = "date-time") String unschedulableSince,
      Integer priority,
      Resources resources,
      Boolean preemptible,
      Integer epoch,
      @JsonProperty("created_at") @Schema(format = "date-time") String createdAt,
      @JsonProperty("admitted_at") @Schema(format = "date-time") String admittedAt,
      Integer admissions,
      @JsonProperty("run_at") @Schema(format = "date-time") String runAt,
      @JsonProperty("finished_at") @Schema(format = "date-time") String finishedAt,
      @Schema(description = "tasks per status") Map<String, Long> counts,
      @Schema(requiredMode = RequiredMode.REQUIRED) List<GangTask> tasks,
      List<GangDrain> drains) {}

  @Schema(name = "Worker")
  public record Worker(
      @Schema(requiredMode = RequiredMode.REQUIRED) String id,
      String incarnation,
      @JsonProperty("exec_addr") String execAddr,
      @Schema(requiredMode = RequiredMode.REQUIRED) int slots,
      Resources resources,
      List<String> tags,
      @Schema(
              requiredMode = RequiredMode.REQUIRED,
              allowableValues = {"active", "draining", "offline"})
          String status,
      @Schema(description = "drained by an operator: no new dispatches") Boolean drained,
      @JsonProperty("drained_at") @Schema(format = "date-time") String drainedAt,
      @JsonProperty("last_heartbeat") @Schema(format = "date-time") String lastHeartbeat,
      @JsonProperty("last_heartbeat_sent_at") @Schema(format = "date-time")
          String lastHeartbeatSentAt,
      @JsonProperty("registered_at") @Schema(format = "date-time") String registeredAt) {}

  @Schema(name = "Queue")
  public record Queue(
      @Schema(requiredMode = RequiredMode.REQUIRED) String name,
      @JsonProperty("max_running") @Schema(nullable = true) Integer maxRunning,
      @JsonProperty("max_running_per_key") @Schema(nullable = true) Integer maxRunningPerKey,
      @Schema(requiredMode = RequiredMode.REQUIRED) boolean paused,
      @JsonProperty("paused_at") @Schema(format = "date-time") String pausedAt,
      @Schema(description = "jobs per status") Map<String, Long> counts) {}

  @Schema(name = "QueueLimits", description = "Absent or null: no limit.")
  public record QueueLimits(
      @JsonProperty("max_running") @Schema(nullable = true, minimum = "1") Integer maxRunning,
      @JsonProperty("max_running_per_key") @Schema(nullable = true, minimum = "1")
          Integer maxRunningPerKey) {}

  @Schema(name = "ScheduleRequest", description = "A recurring schedule to create.")
  public record ScheduleRequest(
      @Schema(requiredMode = RequiredMode.REQUIRED, maxLength = 128) String name,
      @Schema(requiredMode = RequiredMode.REQUIRED, example = "*/5 * * * *") String cron,
      @JsonProperty("time_zone") @Schema(example = "Europe/Paris") String timeZone,
      @Schema(
              requiredMode = RequiredMode.REQUIRED,
              description = "the job each firing submits, as POST /jobs takes it")
          JobSubmission job,
      @Schema(allowableValues = {"skip", "run_once"}) String missed,
      @Schema(allowableValues = {"allow", "skip"}) String overlap) {}

  @Schema(name = "Schedule")
  public record Schedule(
      @Schema(requiredMode = RequiredMode.REQUIRED) String name,
      @Schema(requiredMode = RequiredMode.REQUIRED) String cron,
      @JsonProperty("time_zone") String timeZone,
      @Schema(requiredMode = RequiredMode.REQUIRED, description = "the job each firing submits")
          JobSubmission job,
      String missed,
      String overlap,
      @Schema(requiredMode = RequiredMode.REQUIRED) boolean paused,
      @JsonProperty("next_fire_at") @Schema(format = "date-time", nullable = true)
          String nextFireAt,
      @JsonProperty("last_fire_at") @Schema(format = "date-time") String lastFireAt,
      @JsonProperty("last_job_id") String lastJobId,
      @JsonProperty("last_skipped_at") @Schema(format = "date-time") String lastSkippedAt,
      @JsonProperty("last_skip_reason") String lastSkipReason,
      @JsonProperty("created_at") @Schema(format = "date-time") String createdAt) {}

  @Schema(name = "CancelRequest", description = "Optional; an empty body cancels too.")
  public record CancelRequest(@Schema(maxLength = 4096) String reason) {}

  @Schema(name = "JobSubmission", description = "A job to run: POST /jobs.")
  public record JobSubmission(
      @Schema(
              requiredMode = RequiredMode.REQUIRED,
              minLength = 1,
              maxLength = 65536,
              description = "run as /bin/sh -c <command>; not blank, no NUL")
          String command,
      @JsonProperty("depends_on")
          @ArraySchema(
              maxItems = 1000,
              uniqueItems = true,
              schema = @Schema(pattern = ID),
              arraySchema = @Schema(description = "ids of jobs that must be done first"))
          List<String> dependsOn,
      Resources resources,
      @Schema(minimum = "-1000000", maximum = "1000000") Integer priority,
      @JsonProperty("queue_name") @Schema(maxLength = 128) String queueName,
      @JsonProperty("max_retries")
          @Schema(minimum = "1", maximum = "100", description = "total attempts; default 3")
          Integer maxRetries,
      @JsonProperty("gang_size")
          @Schema(
              minimum = "0",
              maximum = "256",
              description = "2 or more: a gang of this many tasks, run all at once or not at all")
          Integer gangSize,
      @JsonProperty("timeout_seconds") @Schema(minimum = "1", maximum = "31536000")
          Integer timeoutSeconds,
      @JsonProperty("concurrency_key") @Schema(maxLength = 256) String concurrencyKey,
      @JsonProperty("run_at")
          @Schema(format = "date-time", description = "not before; not with delay_seconds")
          String runAt,
      @JsonProperty("delay_seconds") @Schema(minimum = "0", maximum = "31536000")
          Integer delaySeconds,
      @Schema(description = "may be stopped for higher-priority work and resumed later")
          Boolean preemptible) {}

  @Schema(name = "Health")
  public record Health(
      @JsonProperty("instance_id") @Schema(requiredMode = RequiredMode.REQUIRED) String instanceId,
      @Schema(requiredMode = RequiredMode.REQUIRED, example = "2m5s") String uptime,
      @Schema(requiredMode = RequiredMode.REQUIRED, allowableValues = "ok") String status) {}

  @Schema(name = "FieldProblem")
  public record FieldProblem(
      String field, @Schema(requiredMode = RequiredMode.REQUIRED) String detail) {}

  @Schema(
      name = "Problem",
      description =
          "RFC 9457 problem details (application/problem+json), with the request id that the"
              + " gateway's log lines carry")
  public record Problem(
      @Schema(example = "about:blank") String type,
      @Schema(requiredMode = RequiredMode.REQUIRED) String title,
      @Schema(requiredMode = RequiredMode.REQUIRED) int status,
      String detail,
      String instance,
      @JsonProperty("request_id") @Schema(requiredMode = RequiredMode.REQUIRED) String requestId,
      @Schema(description = "400: the first field at fault") String field,
      @Schema(description = "400: every field at fault, when there are several")
          List<FieldProblem> errors,
      @Schema(description = "503: the dependency that did not answer (kafka, scheduler-core)")
          String dependency,
      @JsonProperty("job_status")
          @Schema(description = "409: the job's status, which does not allow the change")
          String jobStatus,
      @JsonProperty("required_scope")
          @Schema(description = "403: the scope the token lacks (jobs:read, jobs:write, ...)")
          String requiredScope) {}

  @Schema(
      name = "DeadLetterTopic",
      description = "A dead-letter topic and how many records it holds.")
  public record DeadLetterTopic(
      @Schema(requiredMode = RequiredMode.REQUIRED) String topic,
      @JsonProperty("origin_topic")
          @Schema(
              requiredMode = RequiredMode.REQUIRED,
              description = "the topic whose refused records it holds")
          String originTopic,
      @Schema(requiredMode = RequiredMode.REQUIRED) long records) {}

  @Schema(name = "DeadLetterReplayed", description = "The last replay of a dead letter.")
  public record DeadLetterReplayed(
      @Schema(requiredMode = RequiredMode.REQUIRED, description = "how many times it was replayed")
          int replays,
      @Schema(requiredMode = RequiredMode.REQUIRED, format = "date-time") String at,
      @Schema(requiredMode = RequiredMode.REQUIRED, description = "the token's name") String by,
      @JsonProperty("request_id") @Schema(nullable = true) String requestId,
      @Schema(
              requiredMode = RequiredMode.REQUIRED,
              description = "where the replayed record went: topic/partition@offset")
          String to) {}

  @Schema(
      name = "DeadLetter",
      description =
          "A record a consumer could not apply, kept in <topic>.dlq with why. A bounded copy"
              + " (truncated) of a record too large to send back cannot be replayed.")
  public record DeadLetter(
      @Schema(requiredMode = RequiredMode.REQUIRED) String topic,
      @Schema(requiredMode = RequiredMode.REQUIRED) int partition,
      @Schema(requiredMode = RequiredMode.REQUIRED) long offset,
      @Schema(requiredMode = RequiredMode.REQUIRED, format = "date-time") String at,
      @Schema(
              nullable = true,
              description =
                  "MALFORMED_JSON, SCHEMA_INVALID, UNKNOWN_TYPE, WRONG_TYPE, TOO_LARGE, REJECTED_BY_STORE, DEPENDENCY_CYCLE")
          String reason,
      @Schema(nullable = true, description = "what was wrong, naming the field") String error,
      @Schema(nullable = true, description = "the original: topic/partition@offset") String origin,
      @Schema(nullable = true) String key,
      @Schema(requiredMode = RequiredMode.REQUIRED) boolean truncated,
      @JsonProperty("original_size")
          @Schema(requiredMode = RequiredMode.REQUIRED, description = "bytes of the original value")
          long originalSize,
      @Schema(requiredMode = RequiredMode.REQUIRED) boolean replayable,
      @JsonProperty("value_encoding")
          @Schema(
              requiredMode = RequiredMode.REQUIRED,
              allowableValues = {"utf-8", "base64"})
          String valueEncoding,
      @JsonProperty("value_preview") @Schema(description = "in a page: the value's first 2 KiB")
          String valuePreview,
      @JsonProperty("value_preview_complete")
          @Schema(description = "in a page: whether the preview is the whole value")
          Boolean valuePreviewComplete,
      @Schema(description = "GET of one dead letter: the whole value") String value,
      @Schema(description = "present once it was replayed") DeadLetterReplayed replayed) {}

  @Schema(name = "DeadLetterPage", description = "GET /dead-letters: the topics and a page.")
  public record DeadLetterPage(
      @Schema(requiredMode = RequiredMode.REQUIRED) List<DeadLetterTopic> topics,
      @JsonProperty("dead_letters")
          @Schema(requiredMode = RequiredMode.REQUIRED, description = "newest first")
          List<DeadLetter> deadLetters,
      @JsonProperty("next_cursor")
          @Schema(nullable = true, description = "the next page's cursor; null on the last")
          String nextCursor) {}

  @Schema(name = "DeadLetterReplay", description = "A replay done.")
  public record DeadLetterReplay(
      @JsonProperty("dead_letter")
          @Schema(requiredMode = RequiredMode.REQUIRED, description = "topic/partition@offset")
          String deadLetter,
      @JsonProperty("replayed_to")
          @Schema(requiredMode = RequiredMode.REQUIRED, description = "topic/partition@offset")
          String replayedTo,
      @Schema(requiredMode = RequiredMode.REQUIRED) int replays,
      @Schema(requiredMode = RequiredMode.REQUIRED, format = "date-time") String at,
      @Schema(requiredMode = RequiredMode.REQUIRED) String by) {}
}
