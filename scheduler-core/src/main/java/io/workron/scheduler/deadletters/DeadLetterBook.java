package io.workron.scheduler.deadletters;

import static io.workron.scheduler.db.Tables.DEAD_LETTER_REPLAYS;

import io.workron.kafka.DeadLetter;
import io.workron.schemas.Topics;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.jooq.DSLContext;
import org.jooq.Record;
import org.jooq.Row3;
import org.jooq.impl.DSL;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The dead letters as an operator sees them: a page of them newest first, across every dead-letter
 * topic or one; one of them whole; and a replay that sends one back to the topic it was refused
 * from, after a fix, with a row in {@code dead_letter_replays} saying when and by whom.
 */
@Component
public class DeadLetterBook {

  /** Largest page. */
  public static final int MAX_LIMIT = 200;

  /** How much of a value a page shows. */
  static final int PREVIEW_BYTES = 2048;

  /**
   * Header a replayed record carries: the dead letter it came from ({@code
   * topic/partition@offset}).
   */
  public static final String REPLAYED_FROM_HEADER = "workron-replayed-from";

  private final DeadLetterTopics topics;
  private final DeadLetterReader reader;
  private final KafkaTemplate<String, byte[]> kafka;
  private final DSLContext db;
  private final TransactionTemplate tx;

  DeadLetterBook(
      DeadLetterTopics topics,
      DeadLetterReader reader,
      KafkaTemplate<String, byte[]> kafka,
      DSLContext db,
      TransactionTemplate tx) {
    this.topics = topics;
    this.reader = reader;
    this.kafka = kafka;
    this.db = db;
    this.tx = tx;
  }

  /** Why a call was refused: {@code status} 400, 404 or 409, with the field when there is one. */
  public static final class Refused extends RuntimeException {
    private final int status;
    private final String field;

    Refused(int status, String field, String detail) {
      super(detail);
      this.status = status;
      this.field = field;
    }

    public int status() {
      return status;
    }

    public String field() {
      return field;
    }
  }

  /**
   * The dead-letter topics with how many records each holds, and a page of dead letters, newest
   * first: of {@code topic} (a dead-letter topic or the topic it serves) or, when null, of all.
   * {@code cursor} is the previous page's {@code next_cursor}.
   */
  public Map<String, Object> page(String topic, int limit, String cursor) throws Exception {
    Map<String, List<DeadLetterTopics.Range>> all = topics.ranges();
    String only = topic == null ? null : deadLetterTopicOf(topic);
    Map<TopicPartition, Long> before = cursor == null ? Map.of() : decode(cursor);
    List<DeadLetterReader.Wanted> wanted = new ArrayList<>();
    Map<TopicPartition, DeadLetterTopics.Range> ranges = new HashMap<>();
    for (var e : all.entrySet()) {
      if (only != null && !only.equals(e.getKey())) {
        continue;
      }
      for (DeadLetterTopics.Range r : e.getValue()) {
        ranges.put(r.partition(), r);
        // a page after the first goes on below where the last one stopped; a partition that
        // was not there then holds only newer letters, which the first page shows
        long to =
            cursor == null
                ? r.end()
                : Math.min(r.end(), before.getOrDefault(r.partition(), r.start()));
        wanted.add(new DeadLetterReader.Wanted(r.partition(), Math.max(r.start(), to - limit), to));
      }
    }
    Map<TopicPartition, List<ConsumerRecord<String, byte[]>>> read = reader.read(wanted);

    // newest first across partitions; within one, by offset, so that what a page takes of a
    // partition is its newest records and the cursor can resume right below them
    record Head(TopicPartition tp, List<ConsumerRecord<String, byte[]>> records, int index) {
      ConsumerRecord<String, byte[]> record() {
        return records.get(index);
      }
    }
    PriorityQueue<Head> heads =
        new PriorityQueue<>(
            Comparator.comparingLong((Head h) -> h.record().timestamp())
                .thenComparingLong(h -> h.record().offset())
                .reversed());
    read.forEach(
        (tp, list) -> {
          if (!list.isEmpty()) {
            heads.add(new Head(tp, list, list.size() - 1));
          }
        });
    List<ConsumerRecord<String, byte[]>> taken = new ArrayList<>();
    Map<TopicPartition, Long> next = new HashMap<>();
    for (DeadLetterReader.Wanted w : wanted) {
      next.put(w.partition(), w.to());
    }
    while (taken.size() < limit && !heads.isEmpty()) {
      Head h = heads.poll();
      taken.add(h.record());
      next.put(h.tp(), h.record().offset());
      if (h.index() > 0) {
        heads.add(new Head(h.tp(), h.records(), h.index() - 1));
      }
    }
    // a partition read to its start without a record (gaps only) is done as well
    for (DeadLetterReader.Wanted w : wanted) {
      if (read.getOrDefault(w.partition(), List.of()).isEmpty()) {
        next.put(w.partition(), w.from());
      }
    }
    boolean more =
        next.entrySet().stream().anyMatch(e -> e.getValue() > ranges.get(e.getKey()).start());

    Map<String, Map<String, Object>> replays = replays(taken);
    List<Map<String, Object>> letters = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> r : taken) {
      letters.add(describe(r, replays.get(id(r)), false));
    }
    List<Map<String, Object>> topicList = new ArrayList<>();
    all.forEach(
        (name, parts) -> {
          Map<String, Object> t = new LinkedHashMap<>();
          t.put("topic", name);
          t.put("origin_topic", DeadLetterTopics.origin(name));
          t.put("records", parts.stream().mapToLong(DeadLetterTopics.Range::records).sum());
          topicList.add(t);
        });
    Map<String, Object> page = new LinkedHashMap<>();
    page.put("topics", topicList);
    page.put("dead_letters", letters);
    // only the partitions with letters left below: the others are done (and a cursor naming
    // every worker's topic would outgrow a URL)
    Map<TopicPartition, Long> left = new HashMap<>();
    next.forEach(
        (tp, at) -> {
          if (at > ranges.get(tp).start()) {
            left.put(tp, at);
          }
        });
    page.put("next_cursor", more && !taken.isEmpty() ? encode(left) : null);
    return page;
  }

  /** One dead letter with its whole value, or a 404 when the topic holds no such record. */
  public Map<String, Object> one(String topic, int partition, long offset) throws Exception {
    ConsumerRecord<String, byte[]> r = find(topic, partition, offset);
    return describe(r, replays(List.of(r)).get(id(r)), true);
  }

  /**
   * Sends a dead letter back to the topic it was refused from: its key, value and original headers,
   * with {@value #REPLAYED_FROM_HEADER}, partitioned by its key as the original was. A bounded copy
   * cannot be replayed (409), nor one replayed before unless {@code again}. The row of the replay
   * is locked while the record is sent, so two replays at once send it once.
   */
  public Map<String, Object> replay(
      String topic, int partition, long offset, boolean again, String actor, String requestId)
      throws Exception {
    ConsumerRecord<String, byte[]> r = find(topic, partition, offset);
    Map<String, Object> letter = describe(r, null, false);
    if (Boolean.TRUE.equals(letter.get("truncated"))) {
      Object origin = letter.get("origin");
      throw new Refused(
          409,
          null,
          "this dead letter is a bounded copy of a "
              + letter.get("original_size")
              + "-byte record and cannot be replayed; the original is at "
              + (origin == null ? "its origin topic" : origin)
              + " until that topic's retention removes it");
    }
    String target = DeadLetterTopics.origin(r.topic());
    return tx.execute(
        status -> {
          Record previous =
              db.selectFrom(DEAD_LETTER_REPLAYS)
                  .where(key(r.topic(), r.partition(), r.offset()))
                  .forUpdate()
                  .fetchOne();
          if (previous == null) {
            int claimed =
                db.insertInto(DEAD_LETTER_REPLAYS)
                    .set(DEAD_LETTER_REPLAYS.DLQ_TOPIC, r.topic())
                    .set(DEAD_LETTER_REPLAYS.DLQ_PARTITION, r.partition())
                    .set(DEAD_LETTER_REPLAYS.DLQ_OFFSET, r.offset())
                    .set(DEAD_LETTER_REPLAYS.REPLAYS, 0)
                    .set(DEAD_LETTER_REPLAYS.LAST_AT, OffsetDateTime.now(ZoneOffset.UTC))
                    .set(DEAD_LETTER_REPLAYS.LAST_ACTOR, actor)
                    .set(DEAD_LETTER_REPLAYS.TARGET_TOPIC, target)
                    .set(DEAD_LETTER_REPLAYS.TARGET_PARTITION, -1)
                    .set(DEAD_LETTER_REPLAYS.TARGET_OFFSET, -1L)
                    .onConflictDoNothing()
                    .execute();
            if (claimed == 0) {
              throw new Refused(409, null, "another call replayed this dead letter just now");
            }
          } else if (!again) {
            throw new Refused(
                409,
                "again",
                "this dead letter was replayed at "
                    + previous.get(DEAD_LETTER_REPLAYS.LAST_AT)
                    + " by "
                    + previous.get(DEAD_LETTER_REPLAYS.LAST_ACTOR)
                    + "; replay it with again=true to send it once more");
          }
          RecordMetadata sent = send(r, target);
          OffsetDateTime now = OffsetDateTime.now(ZoneOffset.UTC);
          db.update(DEAD_LETTER_REPLAYS)
              .set(DEAD_LETTER_REPLAYS.REPLAYS, DEAD_LETTER_REPLAYS.REPLAYS.plus(1))
              .set(DEAD_LETTER_REPLAYS.LAST_AT, now)
              .set(DEAD_LETTER_REPLAYS.LAST_ACTOR, actor)
              .set(DEAD_LETTER_REPLAYS.LAST_REQUEST_ID, requestId)
              .set(DEAD_LETTER_REPLAYS.TARGET_PARTITION, sent.partition())
              .set(DEAD_LETTER_REPLAYS.TARGET_OFFSET, sent.offset())
              .where(key(r.topic(), r.partition(), r.offset()))
              .execute();
          Map<String, Object> answer = new LinkedHashMap<>();
          answer.put("dead_letter", origin(r.topic(), r.partition(), r.offset()));
          answer.put("replayed_to", origin(target, sent.partition(), sent.offset()));
          answer.put(
              "replays", previous == null ? 1 : previous.get(DEAD_LETTER_REPLAYS.REPLAYS) + 1);
          answer.put("at", now.toInstant().toString());
          answer.put("by", actor);
          return answer;
        });
  }

  private RecordMetadata send(ConsumerRecord<String, byte[]> r, String target) {
    RecordHeaders headers = new RecordHeaders();
    for (Header h : r.headers()) {
      if (!h.key().startsWith("workron-dlq-") && !h.key().equals(REPLAYED_FROM_HEADER)) {
        headers.add(h);
      }
    }
    headers.add(
        REPLAYED_FROM_HEADER,
        (r.topic() + "/" + r.partition() + "@" + r.offset()).getBytes(StandardCharsets.UTF_8));
    try {
      return kafka
          .send(new ProducerRecord<>(target, null, r.key(), r.value(), headers))
          .get(30, TimeUnit.SECONDS)
          .getRecordMetadata();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while replaying a dead letter", e);
    } catch (Exception e) {
      throw new IllegalStateException("the broker did not take the replayed record: " + e, e);
    }
  }

  private ConsumerRecord<String, byte[]> find(String topic, int partition, long offset)
      throws Exception {
    if (!topics.isDeadLetterTopic(topic)) {
      throw new Refused(
          400, "topic", "\"" + topic + "\" is not a dead-letter topic of this deployment");
    }
    TopicPartition tp = new TopicPartition(topic, partition);
    List<DeadLetterTopics.Range> parts = topics.ranges(List.of(topic)).get(topic);
    DeadLetterTopics.Range range =
        parts == null
            ? null
            : parts.stream().filter(p -> p.partition().equals(tp)).findFirst().orElse(null);
    if (range == null || offset < range.start() || offset >= range.end()) {
      throw new Refused(404, null, "no dead letter at " + topic + "/" + partition + "@" + offset);
    }
    List<ConsumerRecord<String, byte[]>> found =
        reader.read(List.of(new DeadLetterReader.Wanted(tp, offset, offset + 1))).get(tp);
    if (found == null || found.isEmpty() || found.get(0).offset() != offset) {
      throw new Refused(404, null, "no dead letter at " + topic + "/" + partition + "@" + offset);
    }
    return found.get(0);
  }

  private String deadLetterTopicOf(String topic) {
    String name = topics.isDeadLetterTopic(topic) ? topic : Topics.deadLetter(topic);
    if (!topics.isDeadLetterTopic(name)) {
      throw new Refused(
          400, "topic", "\"" + topic + "\" is not a topic of this deployment or its dead letters");
    }
    return name;
  }

  private Map<String, Object> describe(
      ConsumerRecord<String, byte[]> r, Map<String, Object> replayed, boolean whole) {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("topic", r.topic());
    d.put("partition", r.partition());
    d.put("offset", r.offset());
    d.put("at", Instant.ofEpochMilli(r.timestamp()).toString());
    d.put("reason", header(r, Topics.DLQ_REASON_HEADER));
    d.put("error", header(r, Topics.DLQ_ERROR_HEADER));
    d.put("origin", header(r, DeadLetter.ORIGIN_HEADER));
    d.put("key", r.key());
    boolean truncated = "true".equals(header(r, DeadLetter.TRUNCATED_HEADER));
    d.put("truncated", truncated);
    String size = header(r, DeadLetter.ORIGINAL_SIZE_HEADER);
    d.put(
        "original_size",
        size != null && size.matches("\\d{1,10}")
            ? Long.parseLong(size)
            : (r.value() == null ? 0 : r.value().length));
    d.put("replayable", !truncated);
    byte[] value = r.value() == null ? new byte[0] : r.value();
    String text = utf8(value);
    d.put("value_encoding", text != null ? "utf-8" : "base64");
    if (whole) {
      d.put("value", text != null ? text : Base64.getEncoder().encodeToString(value));
    } else {
      byte[] head =
          value.length <= PREVIEW_BYTES ? value : java.util.Arrays.copyOf(value, PREVIEW_BYTES);
      String headText = utf8Prefix(head);
      d.put("value_preview", text != null ? headText : Base64.getEncoder().encodeToString(head));
      d.put("value_preview_complete", value.length <= PREVIEW_BYTES);
    }
    if (replayed != null) {
      d.put("replayed", replayed);
    }
    return d;
  }

  private Map<String, Map<String, Object>> replays(List<ConsumerRecord<String, byte[]>> records) {
    Map<String, Map<String, Object>> byId = new HashMap<>();
    if (records.isEmpty()) {
      return byId;
    }
    List<Row3<String, Integer, Long>> keys = new ArrayList<>();
    for (ConsumerRecord<String, byte[]> r : records) {
      keys.add(DSL.row(r.topic(), r.partition(), r.offset()));
    }
    db.selectFrom(DEAD_LETTER_REPLAYS)
        .where(
            DSL.row(
                    DEAD_LETTER_REPLAYS.DLQ_TOPIC,
                    DEAD_LETTER_REPLAYS.DLQ_PARTITION,
                    DEAD_LETTER_REPLAYS.DLQ_OFFSET)
                .in(keys))
        .and(DEAD_LETTER_REPLAYS.REPLAYS.gt(0))
        .forEach(
            row -> {
              Map<String, Object> m = new LinkedHashMap<>();
              m.put("replays", row.getReplays());
              m.put("at", row.getLastAt().toInstant().toString());
              m.put("by", row.getLastActor());
              m.put("request_id", row.getLastRequestId());
              m.put(
                  "to",
                  origin(row.getTargetTopic(), row.getTargetPartition(), row.getTargetOffset()));
              byId.put(
                  row.getDlqTopic() + "/" + row.getDlqPartition() + "@" + row.getDlqOffset(), m);
            });
    return byId;
  }

  private static org.jooq.Condition key(String topic, int partition, long offset) {
    return DEAD_LETTER_REPLAYS
        .DLQ_TOPIC
        .eq(topic)
        .and(DEAD_LETTER_REPLAYS.DLQ_PARTITION.eq(partition))
        .and(DEAD_LETTER_REPLAYS.DLQ_OFFSET.eq(offset));
  }

  private static String id(ConsumerRecord<?, ?> r) {
    return r.topic() + "/" + r.partition() + "@" + r.offset();
  }

  private static String origin(String topic, int partition, long offset) {
    return topic + "/" + partition + "@" + offset;
  }

  private static String header(ConsumerRecord<?, ?> r, String key) {
    Header h = r.headers().lastHeader(key);
    return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  /** The bytes as text when they are valid UTF-8, else null. */
  private static String utf8(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /** A prefix of UTF-8 text, cut at most 3 bytes short so that no character is split. */
  private static String utf8Prefix(byte[] head) {
    for (int cut = 0; cut < 4 && cut <= head.length; cut++) {
      String s = utf8(java.util.Arrays.copyOf(head, head.length - cut));
      if (s != null) {
        return s;
      }
    }
    return "";
  }

  static String encode(Map<TopicPartition, Long> positions) {
    StringBuilder s = new StringBuilder();
    positions.entrySet().stream()
        .sorted(Comparator.comparing(e -> e.getKey().toString()))
        .forEach(
            e -> {
              if (s.length() > 0) {
                s.append('\n');
              }
              s.append(e.getKey().topic())
                  .append('\t')
                  .append(e.getKey().partition())
                  .append('\t')
                  .append(e.getValue());
            });
    return Base64.getUrlEncoder()
        .withoutPadding()
        .encodeToString(s.toString().getBytes(StandardCharsets.UTF_8));
  }

  static Map<TopicPartition, Long> decode(String cursor) {
    try {
      String text = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
      Map<TopicPartition, Long> positions = new HashMap<>();
      for (String line : text.split("\n")) {
        String[] f = line.split("\t");
        if (f.length != 3) {
          throw new IllegalArgumentException(line);
        }
        positions.put(new TopicPartition(f[0], Integer.parseInt(f[1])), Long.parseLong(f[2]));
      }
      return positions;
    } catch (IllegalArgumentException e) {
      throw new Refused(400, "cursor", "cursor is not valid");
    }
  }
}
