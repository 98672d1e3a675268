package io.workron.gateway.submission;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * The body of {@code POST /jobs} as the seed accepted it, plus {@code queue_name} and {@code
 * max_retries}. Unknown keys are ignored, as the seed did; every field is optional at this level so
 * that {@link SubmissionRules} can name what is missing.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
record SubmissionRequest(
    String command,
    @JsonProperty("depends_on") List<String> dependsOn,
    ResourcesRequest resources,
    Integer priority,
    @JsonProperty("queue_name") String queueName,
    @JsonProperty("max_retries") Integer maxRetries,
    @JsonProperty("gang_size") Integer gangSize) {

  @JsonIgnoreProperties(ignoreUnknown = true)
  record ResourcesRequest(
      @JsonProperty("vram_mb") Long vramMb, @JsonProperty("memory_mb") Long memoryMb) {}
}
