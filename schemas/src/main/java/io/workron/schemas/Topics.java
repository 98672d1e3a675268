package io.workron.schemas;

/**
 * Workron's topic names under a configurable prefix (default {@code workron}). Tests use a fresh
 * prefix each to share one broker without seeing each other's messages.
 */
public record Topics(String prefix) {

  public static final String DEFAULT_PREFIX = "workron";

  /** Kafka header carrying the REST request id along with a message. */
  public static final String REQUEST_ID_HEADER = "workron-request-id";

  /** Kafka header marking a {@code partition.tick.v1}, so consumers can skip it unread. */
  public static final String TICK_HEADER = "workron-tick";

  /** Kafka header on a dead-lettered message: why it was refused ({@code SCHEMA_INVALID}, …). */
  public static final String DLQ_REASON_HEADER = "workron-dlq-reason";

  /** Kafka header on a dead-lettered message: the human-readable error, naming the field. */
  public static final String DLQ_ERROR_HEADER = "workron-dlq-error";

  public static Topics defaults() {
    return new Topics(DEFAULT_PREFIX);
  }

  /** Job submissions (key: job id), produced by the gateway and by other services. */
  public String submissions() {
    return prefix + ".submissions";
  }

  /** Worker heartbeats (key: worker id). */
  public String heartbeats() {
    return prefix + ".heartbeats";
  }

  /** Attempt results (key: job id). */
  public String results() {
    return prefix + ".results";
  }

  /** Lifecycle events for other services (key: job id). */
  public String jobEvents() {
    return prefix + ".job-events";
  }

  /** One worker's dispatch topic: dispatch, and later preempt and cancel. */
  public String dispatch(String workerId) {
    return prefix + ".dispatch." + workerId;
  }

  /** Whether {@code topic} is one worker's dispatch topic under this prefix. */
  public boolean isDispatch(String topic) {
    return topic.startsWith(prefix + ".dispatch.") && !topic.endsWith(".dlq");
  }

  /** The dead-letter topic beside a consumed topic. */
  public static String deadLetter(String topic) {
    return topic + ".dlq";
  }
}
