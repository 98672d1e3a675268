package io.workron.gateway.submission;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Set;

/**
 * The body of {@code POST /jobs} as the seed accepted it, plus {@code queue_name} and {@code
 * max_retries}. Unlike the seed, a key that is neither one of these nor one of the seed's job JSON
 * is refused (see {@code SubmissionIntake}); every field is optional at this level so that {@link
 * SubmissionRules} can name what is missing.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record SubmissionRequest(
    String command,
    @JsonProperty("depends_on") List<String> dependsOn,
    ResourcesRequest resources,
    Integer priority,
    @JsonProperty("queue_name") String queueName,
    @JsonProperty("max_retries") Integer maxRetries,
    @JsonProperty("gang_size") Integer gangSize,
    @JsonProperty("timeout_seconds") Integer timeoutSeconds,
    @JsonProperty("concurrency_key") String concurrencyKey,
    @JsonProperty("run_at") String runAt,
    @JsonProperty("delay_seconds") Integer delaySeconds,
    Boolean preemptible) {

  /** Whether this asks for a gang of two or more tasks. */
  boolean isGang() {
    return gangSize != null && gangSize > 1;
  }

  /** Keys read from a submission. */
  public static final Set<String> READ_KEYS =
      Set.of(
          "command",
          "depends_on",
          "resources",
          "priority",
          "queue_name",
          "max_retries",
          "gang_size",
          "timeout_seconds",
          "concurrency_key",
          "run_at",
          "delay_seconds",
          "preemptible");

  /**
   * Keys accepted and ignored: the rest of the seed's job JSON (SEED-BEHAVIOR.md section 2.1),
   * which its clients may send back as they read it.
   */
  public static final Set<String> SEED_JOB_KEYS =
      Set.of(
          "id",
          "status",
          "created_at",
          "started_at",
          "done_at",
          "last_heart_beat",
          "attempts",
          "worker_id",
          "gang_id",
          "gang_index",
          "checkpoint",
          "outputs",
          "reservation_epoch",
          "reserved_at",
          "preemption_epoch",
          "drain_started_at",
          // and what this API's GET /jobs/{id} shows besides them
          "exit_code",
          "failure_reason",
          "wait_reason",
          "output",
          "output_truncated",
          "attempt_history");

  static final Set<String> ACCEPTED_KEYS = union(READ_KEYS, SEED_JOB_KEYS);

  public static final Set<String> RESOURCE_KEYS = Set.of("vram_mb", "memory_mb");

  private static Set<String> union(Set<String> a, Set<String> b) {
    java.util.HashSet<String> all = new java.util.HashSet<>(a);
    all.addAll(b);
    return Set.copyOf(all);
  }

  @JsonIgnoreProperties(ignoreUnknown = true)
  record ResourcesRequest(
      @JsonProperty("vram_mb") Long vramMb, @JsonProperty("memory_mb") Long memoryMb) {}
}
