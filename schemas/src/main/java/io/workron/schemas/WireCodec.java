package io.workron.schemas;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JavaType;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.cfg.DateTimeFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads and writes Workron messages. Every document read is checked against its JSON Schema before
 * it is bound to a record, so a consumer never acts on a message its producer's contract forbids.
 * Thread-safe; create once.
 */
public final class WireCodec {

  /** Largest message accepted from a topic; larger ones go to the dead-letter topic. */
  public static final int MAX_MESSAGE_BYTES = 1024 * 1024;

  private final JsonMapper mapper;
  private final Map<String, Schema> schemas = new HashMap<>();
  private final Map<String, JavaType> envelopeTypes = new HashMap<>();

  public WireCodec() {
    this.mapper =
        JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(DateTimeFeature.WRITE_DATES_AS_TIMESTAMPS)
            .build();
    SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
    for (MessageType<?> type : MessageType.all()) {
      try (InputStream in = WireCodec.class.getResourceAsStream(type.schemaResource())) {
        if (in == null) {
          throw new IllegalStateException("missing schema " + type.schemaResource());
        }
        schemas.put(type.name(), registry.getSchema(mapper.readTree(in)));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      envelopeTypes.put(
          type.name(),
          mapper.getTypeFactory().constructParametricType(Envelope.class, type.payloadClass()));
    }
  }

  public static <P> Envelope<P> envelope(MessageType<P> type, String id, Instant time, P payload) {
    return new Envelope<>(type.name(), id, time, payload);
  }

  public byte[] encode(Envelope<?> envelope) {
    return mapper.writeValueAsBytes(envelope);
  }

  /** Reads a message that must be of {@code expected} type. */
  public <P> Envelope<P> decode(byte[] bytes, MessageType<P> expected)
      throws InvalidMessageException {
    JsonNode tree = parse(bytes);
    String type = tree.path("type").asString("");
    if (!type.equals(expected.name())) {
      if (MessageType.byName(type).isEmpty()) {
        throw new InvalidMessageException(
            InvalidMessageException.Reason.UNKNOWN_TYPE,
            "/type",
            "unknown message type '" + type + "', expected " + expected.name());
      }
      throw new InvalidMessageException(
          InvalidMessageException.Reason.WRONG_TYPE,
          "/type",
          "message type " + type + " does not belong here, expected " + expected.name());
    }
    return bind(tree, expected);
  }

  /**
   * Reads a message of one of {@code accepted} types, parsing it once (a topic that carries several
   * types, such as results with outputs and checkpoints).
   */
  public Envelope<?> decodeAny(byte[] bytes, List<MessageType<?>> accepted)
      throws InvalidMessageException {
    JsonNode tree = parse(bytes);
    String type = tree.path("type").asString("");
    for (MessageType<?> t : accepted) {
      if (t.name().equals(type)) {
        return bind(tree, t);
      }
    }
    if (MessageType.byName(type).isEmpty()) {
      throw new InvalidMessageException(
          InvalidMessageException.Reason.UNKNOWN_TYPE,
          "/type",
          "unknown message type '" + type + "', expected one of " + accepted);
    }
    throw new InvalidMessageException(
        InvalidMessageException.Reason.WRONG_TYPE,
        "/type",
        "message type " + type + " does not belong here, expected one of " + accepted);
  }

  /** Validates {@code tree} against the schema of {@code type}; the list is empty when valid. */
  public List<Error> validate(JsonNode tree, MessageType<?> type) {
    return schemas.get(type.name()).validate(tree);
  }

  public JsonNode readTree(byte[] bytes) throws InvalidMessageException {
    return parse(bytes);
  }

  public JsonMapper mapper() {
    return mapper;
  }

  private JsonNode parse(byte[] bytes) throws InvalidMessageException {
    if (bytes == null || bytes.length == 0) {
      throw new InvalidMessageException(
          InvalidMessageException.Reason.MALFORMED_JSON, "", "empty message");
    }
    if (bytes.length > MAX_MESSAGE_BYTES) {
      throw new InvalidMessageException(
          InvalidMessageException.Reason.TOO_LARGE,
          "",
          "message of " + bytes.length + " bytes exceeds the limit of " + MAX_MESSAGE_BYTES);
    }
    JsonNode tree;
    try {
      tree = mapper.readTree(bytes);
    } catch (JacksonException e) {
      throw new InvalidMessageException(
          InvalidMessageException.Reason.MALFORMED_JSON, "", "not valid JSON: " + e.getMessage());
    }
    if (tree == null || !tree.isObject()) {
      throw new InvalidMessageException(
          InvalidMessageException.Reason.MALFORMED_JSON, "", "a message must be a JSON object");
    }
    return tree;
  }

  private <P> Envelope<P> bind(JsonNode tree, MessageType<P> type) throws InvalidMessageException {
    List<Error> errors = validate(tree, type);
    if (!errors.isEmpty()) {
      Error first = errors.get(0);
      String field = first.getInstanceLocation().toString().replace("$", "").replace('.', '/');
      if (first.getProperty() != null && "required".equals(first.getKeyword())) {
        field = field + "/" + first.getProperty();
      }
      throw new InvalidMessageException(
          InvalidMessageException.Reason.SCHEMA_INVALID,
          field,
          (field.isEmpty() ? "" : field + ": ") + first.getMessage());
    }
    try {
      return mapper.treeToValue(tree, envelopeTypes.get(type.name()));
    } catch (JacksonException e) {
      throw new InvalidMessageException(
          InvalidMessageException.Reason.SCHEMA_INVALID, "", e.getOriginalMessage());
    }
  }
}
