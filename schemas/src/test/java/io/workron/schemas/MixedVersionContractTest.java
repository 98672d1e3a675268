package io.workron.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.InputStream;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A worker and scheduler-core one contract version apart keep working: what the newer side writes
 * is read by the older side as it was released, and the other way round.
 */
class MixedVersionContractTest {

  private final WireCodec codec = new WireCodec();
  private final JsonMapper releasedReader =
      JsonMapper.builder().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

  /** {@code job.result.v1} payload as the released reader binds it: without {@code stop_cause}. */
  record ReleasedJobResult(
      @JsonProperty("job_id") String jobId,
      int attempt,
      @JsonProperty("worker_id") String workerId,
      String incarnation,
      String outcome,
      @JsonProperty("exit_code") Integer exitCode,
      String reason) {}

  record ReleasedEnvelope(String type, String id, String time, ReleasedJobResult payload) {}

  @Test
  void aResultWithAStopCauseIsValidForTheReleasedSchemaAndReadAsInterrupted() throws Exception {
    JobResult stopped =
        new JobResult(
            "job-1",
            2,
            "worker-1",
            "inc-1",
            JobResult.Outcome.INTERRUPTED,
            143,
            Instant.parse("2026-12-01T12:00:00Z"),
            Instant.parse("2026-12-01T12:00:05Z"),
            5000L,
            "partial output",
            false,
            "stopped: taken_back",
            StopCause.TAKEN_BACK);
    byte[] written =
        codec.encode(WireCodec.envelope(MessageType.JOB_RESULT, "r-1", Instant.now(), stopped));

    assertThat(new String(written, java.nio.charset.StandardCharsets.UTF_8))
        .contains("\"stop_cause\":\"taken_back\"");
    assertThat(releasedSchemaErrors(written, "job-result.v1")).isEmpty();
    ReleasedEnvelope read = releasedReader.readValue(written, ReleasedEnvelope.class);
    assertThat(read.payload().outcome()).isEqualTo("interrupted");
    assertThat(read.payload().attempt()).isEqualTo(2);
  }

  @Test
  void aResultFromAWorkerThatKnowsNoStopCauseIsReadWithoutOne() throws Exception {
    byte[] released =
        ("{\"type\":\"job.result.v1\",\"id\":\"r\",\"time\":\"2026-12-01T12:00:00Z\",\"payload\":"
                + "{\"job_id\":\"job-1\",\"attempt\":1,\"worker_id\":\"w\",\"incarnation\":\"i\","
                + "\"outcome\":\"interrupted\",\"started_at\":\"2026-12-01T12:00:00Z\","
                + "\"finished_at\":\"2026-12-01T12:00:01Z\",\"reason\":\"worker shutting down\"}}")
            .getBytes(java.nio.charset.StandardCharsets.UTF_8);

    JobResult read = codec.decode(released, MessageType.JOB_RESULT).payload();

    assertThat(read.outcome()).isEqualTo(JobResult.Outcome.INTERRUPTED);
    assertThat(read.stopCause()).isNull();
  }

  @Test
  void aStopOrderIsNeverReadAsADispatchOrAControlMessage() throws Exception {
    byte[] stop;
    try (InputStream in = getClass().getResourceAsStream(MessageType.JOB_STOP.exampleResource())) {
      stop = in.readAllBytes();
    }
    for (MessageType<?> older : List.of(MessageType.JOB_DISPATCH, MessageType.WORKER_CONTROL)) {
      try {
        codec.decode(stop, older);
        throw new AssertionError("a stop order was read as " + older.name());
      } catch (InvalidMessageException e) {
        assertThat(e.reason()).isEqualTo(InvalidMessageException.Reason.WRONG_TYPE);
      }
    }
  }

  @Test
  void aDispatchWithATimeoutIsValidForTheReleasedSchemaWhichIgnoresTheField() throws Exception {
    JobDispatch bounded =
        new JobDispatch(
            "job-1", 1, "worker-1", "inc-1", "sleep 30", java.util.Map.of(), Resources.NONE, 2);
    byte[] written =
        codec.encode(WireCodec.envelope(MessageType.JOB_DISPATCH, "d-1", Instant.now(), bounded));

    assertThat(new String(written, java.nio.charset.StandardCharsets.UTF_8))
        .contains("\"timeout_seconds\":2");
    // an older worker runs it without the limit; scheduler-core's reaper ends it instead
    assertThat(releasedSchemaErrors(written, "job-dispatch.v1")).isEmpty();
  }

  private List<Error> releasedSchemaErrors(byte[] document, String stem) throws Exception {
    try (InputStream in = getClass().getResourceAsStream("/released/" + stem + ".schema.json")) {
      Schema schema =
          SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
              .getSchema(releasedReader.readTree(in));
      JsonNode doc = releasedReader.readTree(document);
      return schema.validate(doc);
    }
  }
}
