package io.workron.schemas;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.time.Instant;

/** Payload of {@code job.event.v1}: a job entered {@code status}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobEvent(
    @JsonProperty("job_id") String jobId,
    String status,
    int attempt,
    @JsonProperty("worker_id") String workerId,
    @JsonProperty("exit_code") Integer exitCode,
    String reason,
    @JsonProperty("queue_name") String queueName,
    @JsonProperty("created_at") Instant createdAt,
    @JsonProperty("started_at") Instant startedAt,
    @JsonProperty("finished_at") Instant finishedAt) {

  public static final String TYPE = "job.event.v1";
}
