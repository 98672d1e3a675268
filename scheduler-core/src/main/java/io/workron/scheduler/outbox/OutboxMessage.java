package io.workron.scheduler.outbox;

/**
 * A message to publish once the transaction that wrote it has committed. A dispatch names its job
 * attempt, so the relay can record when the broker acknowledged it (the dispatch-ack clock starts
 * there).
 */
public record OutboxMessage(
    String topic,
    String key,
    byte[] payload,
    String requestId,
    String dispatchJobId,
    Integer dispatchAttempt) {

  public OutboxMessage(String topic, String key, byte[] payload, String requestId) {
    this(topic, key, payload, requestId, null, null);
  }

  /** The dispatch of attempt {@code attempt} of job {@code jobId}. */
  public static OutboxMessage dispatch(String topic, String jobId, int attempt, byte[] payload) {
    return new OutboxMessage(topic, jobId, payload, null, jobId, attempt);
  }
}
