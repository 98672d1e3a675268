package io.workron.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class WireContractTest {

  private final WireCodec codec = new WireCodec();

  static Stream<MessageType<?>> types() {
    return MessageType.all().stream();
  }

  static byte[] example(MessageType<?> type) throws IOException {
    try (InputStream in = WireContractTest.class.getResourceAsStream(type.exampleResource())) {
      assertThat(in).as("example for %s", type).isNotNull();
      return in.readAllBytes();
    }
  }

  @ParameterizedTest
  @MethodSource("types")
  void exampleDocumentAsANonJavaProducerWritesItIsAccepted(MessageType<?> type) throws Exception {
    byte[] raw = example(type);

    Envelope<?> envelope = codec.decode(raw, type);

    assertThat(envelope.type()).isEqualTo(type.name());
    assertThat(envelope.payload()).isInstanceOf(type.payloadClass());
  }

  @ParameterizedTest
  @MethodSource("types")
  void whatJavaProducersWriteValidatesAgainstTheSchemaAndReadsBackEqual(MessageType<?> type)
      throws Exception {
    Envelope<?> fromExample = codec.decode(example(type), type);

    byte[] written = codec.encode(fromExample);

    assertThat(codec.validate(codec.readTree(written), type)).isEmpty();
    assertThat(codec.decode(written, type)).isEqualTo(fromExample);
  }

  @ParameterizedTest
  @MethodSource("types")
  void fieldNamesOnTheWireAreSnakeCaseAsTheSchemaSpellsThem(MessageType<?> type) throws Exception {
    String written = new String(codec.encode(codec.decode(example(type), type)), UTF8);
    assertThat(written).doesNotContainPattern("\"[a-z]+[A-Z][A-Za-z]*\"\\s*:");
    // every payload field of the example survives a Java round trip under the same name
    var original = codec.readTree(example(type)).get("payload");
    var roundTripped = codec.readTree(written.getBytes(UTF8)).get("payload");
    for (String name : original.propertyNames()) {
      if (!isDefaultValue(original.get(name))) {
        assertThat(roundTripped.has(name)).as("%s keeps field %s", type, name).isTrue();
      }
    }
  }

  private static boolean isDefaultValue(tools.jackson.databind.JsonNode node) {
    return (node.isNumber() && node.asLong() == 0)
        || (node.isArray() && node.isEmpty())
        || (node.isObject() && node.isEmpty());
  }

  @Test
  void aGangIsOneSubmissionWhoseTasksAreNamedByIndex() throws Exception {
    byte[] raw;
    try (InputStream in =
        WireContractTest.class.getResourceAsStream("/examples/job-submitted.v1.gang.json")) {
      raw = in.readAllBytes();
    }
    JobSubmission gang = codec.decode(raw, MessageType.JOB_SUBMITTED).payload();

    assertThat(gang.isGang()).isTrue();
    assertThat(gang.preemptible()).isTrue();
    assertThat(gang.gangTaskIds()).containsExactly("gang-example-train-0", "gang-example-train-1");
    byte[] written = codec.encode(codec.decode(raw, MessageType.JOB_SUBMITTED));
    assertThat(codec.validate(codec.readTree(written), MessageType.JOB_SUBMITTED)).isEmpty();
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.CsvSource(
      delimiter = '|',
      textBlock =
          """
          gang with dependencies | "id":"g1","command":"x","gang_size":2,"depends_on":["a"]
          gang with a key        | "id":"g1","command":"x","gang_size":2,"concurrency_key":"k"
          gang too big           | "id":"g1","command":"x","gang_size":257
          gang id too long       | "id":"gggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggggg","command":"x","gang_size":2
          preemptible as text    | "id":"j1","command":"x","preemptible":"yes"
          """)
  void aGangTheSchedulerCannotStoreIsRefusedByTheSchema(String name, String payload)
      throws Exception {
    byte[] doc =
        ("{\"type\":\"job.submitted.v1\",\"id\":\"m\",\"time\":\"2026-11-29T12:00:00Z\",\"payload\":{"
                + payload
                + "}}")
            .getBytes(UTF8);

    assertThat(codec.validate(codec.readTree(doc), MessageType.JOB_SUBMITTED)).isNotEmpty();
  }

  @Test
  void submissionDefaultsAreTheSeeds() throws Exception {
    String doc =
        "{\"type\":\"job.submitted.v1\",\"id\":\"m\",\"time\":\"2026-01-01T00:00:00Z\","
            + "\"payload\":{\"id\":\"job-1\",\"command\":\"true\"}}";
    JobSubmission s = codec.decode(doc.getBytes(UTF8), MessageType.JOB_SUBMITTED).payload();

    JobSubmission filled = s.withDefaults();

    assertThat(filled.maxRetries()).isEqualTo(3);
    assertThat(filled.priority()).isZero();
    assertThat(filled.queueName()).isEqualTo("default");
    assertThat(filled.dependsOn()).isEmpty();
    assertThat(filled.resources()).isEqualTo(Resources.NONE);
  }

  @Test
  void unknownFieldsAreIgnoredSoProducersCanAddFields() throws Exception {
    String doc =
        "{\"type\":\"job.submitted.v1\",\"id\":\"m\",\"time\":\"2026-01-01T00:00:00Z\","
            + "\"trace\":\"x\",\"payload\":{\"id\":\"job-1\",\"command\":\"true\",\"new_field\":1}}";
    assertThat(codec.decode(doc.getBytes(UTF8), MessageType.JOB_SUBMITTED).payload().command())
        .isEqualTo("true");
  }

  @Test
  void emptyCommandIsRefusedNamingTheField() {
    assertRefused(
        submission("{\"id\":\"job-1\",\"command\":\"\"}"),
        InvalidMessageException.Reason.SCHEMA_INVALID,
        "/payload/command");
    assertRefused(
        submission("{\"id\":\"job-1\",\"command\":\"   \"}"),
        InvalidMessageException.Reason.SCHEMA_INVALID,
        "/payload/command");
  }

  @Test
  void negativeResourcesAreRefusedNamingTheField() {
    assertRefused(
        submission("{\"id\":\"job-1\",\"command\":\"true\",\"resources\":{\"vram_mb\":-1}}"),
        InvalidMessageException.Reason.SCHEMA_INVALID,
        "/payload/resources/vram_mb");
  }

  @Test
  void missingJobIdIsRefusedNamingTheField() {
    assertRefused(
        submission("{\"command\":\"true\"}"),
        InvalidMessageException.Reason.SCHEMA_INVALID,
        "/payload/id");
  }

  @Test
  void aCommandWithANulCharacterIsRefusedBecausePostgresqlCannotStoreIt() {
    assertRefused(
        submission("{\"id\":\"job-1\",\"command\":\"echo a\\u0000b\"}"),
        InvalidMessageException.Reason.SCHEMA_INVALID,
        "/payload/command");
  }

  /**
   * Identifiers and labels PostgreSQL cannot store (a NUL) are refused at the schema, so a result
   * or heartbeat carrying one is dead-lettered instead of failing its transaction on every retry.
   */
  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "job.result.v1|\"job_id\":\"job-example-0001\"|\"job_id\":\"job-\\u0000\"|/payload/job_id",
        "job.result.v1|\"worker_id\":\"worker-1a2b3c4d\"|\"worker_id\":\"w\\u0000\"|/payload/worker_id",
        "job.result.v1|\"incarnation\":\"0195f2a0-0000-7000-8000-000000000001\"|\"incarnation\":\"i\\u0000\"|/payload/incarnation",
        "worker.heartbeat.v1|\"incarnation\":\"0195f2a0-0000-7000-8000-000000000001\"|\"incarnation\":\"i\\u0000\"|/payload/incarnation",
        "worker.heartbeat.v1|\"a100\"|\"a\\u0000\"|/payload/tags/1",
        "worker.heartbeat.v1|\"exec_addr\":\"10.0.0.7:29500\"|\"exec_addr\":\"10.0.0.7\\u0000\"|/payload/exec_addr",
        "worker.heartbeat.v1|\"job_id\":\"job-example-0001\"|\"job_id\":\"job-\\u0000\"|/payload/running/0/job_id",
        "job.dispatch.v1|\"job_id\":\"job-example-0001\"|\"job_id\":\"job-\\u0000\"|/payload/job_id"
      })
  void aNulInAnIdentifierIsRefusedNamingTheField(
      String type, String original, String poisoned, String field) throws Exception {
    MessageType<?> messageType = MessageType.byName(type).orElseThrow();
    String example = new String(example(messageType), UTF8);
    assertThat(example).contains(original);
    byte[] doc = example.replace(original, poisoned).getBytes(UTF8);

    assertThatThrownBy(() -> codec.decode(doc, messageType))
        .isInstanceOfSatisfying(
            InvalidMessageException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(InvalidMessageException.Reason.SCHEMA_INVALID);
              assertThat(e.field()).isEqualTo(field);
            });
  }

  @Test
  void oversizedCommandIsRefused() {
    String big = "x".repeat(JobSubmission.MAX_COMMAND_LENGTH + 1);
    assertRefused(
        submission("{\"id\":\"job-1\",\"command\":\"" + big + "\"}"),
        InvalidMessageException.Reason.SCHEMA_INVALID,
        "/payload/command");
  }

  @Test
  void malformedJsonAndUnknownTypesAreRefused() {
    assertRefused("{not json".getBytes(UTF8), InvalidMessageException.Reason.MALFORMED_JSON, "");
    assertRefused(
        "{\"type\":\"job.exploded.v9\",\"id\":\"m\",\"time\":\"2026-01-01T00:00:00Z\",\"payload\":{}}"
            .getBytes(UTF8),
        InvalidMessageException.Reason.UNKNOWN_TYPE,
        "/type");
    assertRefused(
        "{\"type\":\"job.result.v1\",\"id\":\"m\",\"time\":\"2026-01-01T00:00:00Z\",\"payload\":{}}"
            .getBytes(UTF8),
        InvalidMessageException.Reason.WRONG_TYPE,
        "/type");
  }

  @Test
  void instantsAreWrittenAsIsoStrings() {
    Instant t = Instant.parse("2026-11-29T12:00:00.123Z");
    byte[] bytes =
        codec.encode(
            WireCodec.envelope(
                MessageType.JOB_DISPATCH,
                "d-1",
                t,
                new JobDispatch("job-1", 1, "w", "i", "true", Map.of(), null)));
    assertThat(new String(bytes, UTF8)).contains("\"time\":\"2026-11-29T12:00:00.123Z\"");
  }

  @Test
  void generatedJobIdsSortByCreationTime() {
    Clock early = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), java.time.ZoneOffset.UTC);
    Clock late = Clock.fixed(Instant.parse("2026-01-01T00:00:01Z"), java.time.ZoneOffset.UTC);
    List<String> ids = List.of(Ids.newJobId(early), Ids.newJobId(late));
    assertThat(ids.get(0)).startsWith("job-").isLessThan(ids.get(1));
    assertThat(Ids.jobIdForIdempotencyKey("k")).isEqualTo(Ids.jobIdForIdempotencyKey("k"));
    assertThat(Ids.jobIdForIdempotencyKey("k")).isNotEqualTo(Ids.jobIdForIdempotencyKey("l"));
  }

  private static final java.nio.charset.Charset UTF8 = StandardCharsets.UTF_8;

  private static byte[] submission(String payload) {
    return ("{\"type\":\"job.submitted.v1\",\"id\":\"m\",\"time\":\"2026-01-01T00:00:00Z\",\"payload\":"
            + payload
            + "}")
        .getBytes(UTF8);
  }

  private void assertRefused(byte[] doc, InvalidMessageException.Reason reason, String field) {
    assertThatThrownBy(() -> codec.decode(doc, MessageType.JOB_SUBMITTED))
        .isInstanceOfSatisfying(
            InvalidMessageException.class,
            e -> {
              assertThat(e.reason()).isEqualTo(reason);
              assertThat(e.field()).isEqualTo(field);
            });
  }
}
