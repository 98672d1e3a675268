package io.workron.schemas;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * Payload of {@code job.submitted.v1}: one job to run. Optional fields are null when absent; {@link
 * #withDefaults()} fills them the way scheduler-core stores them.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobSubmission(
    String id,
    String command,
    @JsonProperty("depends_on") List<String> dependsOn,
    Resources resources,
    Integer priority,
    @JsonProperty("queue_name") String queueName,
    @JsonProperty("max_retries") Integer maxRetries,
    @JsonProperty("idempotency_key") String idempotencyKey,
    @JsonProperty("timeout_seconds") Integer timeoutSeconds,
    @JsonProperty("concurrency_key") String concurrencyKey,
    @JsonProperty("run_at") java.time.Instant runAt,
    @JsonProperty("delay_seconds") Integer delaySeconds,
    @JsonProperty("gang_size") Integer gangSize,
    Boolean preemptible) {

  public static final String TYPE = "job.submitted.v1";

  /** Most tasks one gang may have. */
  public static final int MAX_GANG_SIZE = 256;

  /** Longest gang id: its task ids ({@code <gang id>-<index>}) must still be valid job ids. */
  public static final int MAX_GANG_ID_LENGTH = 123;

  /** A submission of one ordinary job (no gang, not preemptible). */
  public JobSubmission(
      String id,
      String command,
      List<String> dependsOn,
      Resources resources,
      Integer priority,
      String queueName,
      Integer maxRetries,
      String idempotencyKey,
      Integer timeoutSeconds,
      String concurrencyKey,
      java.time.Instant runAt,
      Integer delaySeconds) {
    this(
        id,
        command,
        dependsOn,
        resources,
        priority,
        queueName,
        maxRetries,
        idempotencyKey,
        timeoutSeconds,
        concurrencyKey,
        runAt,
        delaySeconds,
        null,
        null);
  }

  /** Whether this submission is a gang of two or more tasks. */
  public boolean isGang() {
    return gangSize != null && gangSize > 1;
  }

  /** The id of a gang's task {@code index}. */
  public static String gangTaskId(String gangId, int index) {
    return gangId + "-" + index;
  }

  /** The ids of this gang's tasks, in index order (empty for an ordinary job). */
  public List<String> gangTaskIds() {
    if (!isGang()) {
      return List.of();
    }
    java.util.ArrayList<String> ids = new java.util.ArrayList<>(gangSize);
    for (int i = 0; i < gangSize; i++) {
      ids.add(gangTaskId(id, i));
    }
    return ids;
  }

  /** Longest run time a job may ask for, in seconds (a year). */
  public static final int MAX_TIMEOUT_SECONDS = 31_536_000;

  /** A submission without a timeout of its own (its queue's default applies). */
  public JobSubmission(
      String id,
      String command,
      List<String> dependsOn,
      Resources resources,
      Integer priority,
      String queueName,
      Integer maxRetries,
      String idempotencyKey) {
    this(
        id,
        command,
        dependsOn,
        resources,
        priority,
        queueName,
        maxRetries,
        idempotencyKey,
        null,
        null,
        null,
        null);
  }

  /** Longest a job may be delayed, in seconds (a year). */
  public static final int MAX_DELAY_SECONDS = 31_536_000;

  /**
   * When the job may start: {@code run_at}, else {@code delay_seconds} after {@code sent} (the
   * message's time), else null (at once).
   */
  public java.time.Instant startAfter(java.time.Instant sent) {
    if (runAt != null) {
      return runAt;
    }
    return delaySeconds == null || sent == null ? null : sent.plusSeconds(delaySeconds);
  }

  /** Longest {@code concurrency_key}, in characters. */
  public static final int MAX_CONCURRENCY_KEY_LENGTH = 256;

  /** Total attempts when the submission does not say (the seed's meaning of max_retries). */
  public static final int DEFAULT_MAX_RETRIES = 3;

  public static final String DEFAULT_QUEUE = "default";

  /** Longest command accepted, in characters; longer ones are rejected (REST 400, Kafka DLQ). */
  public static final int MAX_COMMAND_LENGTH = 65536;

  public JobSubmission withDefaults() {
    return new JobSubmission(
        id,
        command,
        dependsOn == null ? List.of() : List.copyOf(dependsOn),
        resources == null ? Resources.NONE : resources,
        priority == null ? 0 : priority,
        queueName == null || queueName.isBlank() ? DEFAULT_QUEUE : queueName,
        maxRetries == null ? DEFAULT_MAX_RETRIES : maxRetries,
        idempotencyKey,
        timeoutSeconds,
        concurrencyKey == null || concurrencyKey.isEmpty() ? null : concurrencyKey,
        runAt,
        delaySeconds,
        gangSize,
        preemptible != null && preemptible);
  }
}
