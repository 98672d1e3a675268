package io.workron.schemas;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Map;

/** Payload of {@code job.dispatch.v1}: run attempt {@code attempt} of a job on one incarnation. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobDispatch(
    @JsonProperty("job_id") String jobId,
    int attempt,
    @JsonProperty("worker_id") String workerId,
    String incarnation,
    String command,
    Map<String, String> env,
    Resources resources) {

  public static final String TYPE = "job.dispatch.v1";
}
