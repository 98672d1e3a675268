package io.workron.schemas;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Payload of {@code job.cancel.v1}: another service asks to cancel a job. Produced to {@code
 * workron.submissions} keyed by the job id. A cancel for a job not stored yet is kept and applied
 * when the job arrives, since its submission may be keyed by another id (a gang's or a DAG's).
 *
 * @param reason why, recorded on the job (optional)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record JobCancel(@JsonProperty("job_id") String jobId, String reason) {

  public static final String TYPE = "job.cancel.v1";
}
