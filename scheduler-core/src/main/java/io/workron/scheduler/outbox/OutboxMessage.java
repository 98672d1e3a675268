package io.workron.scheduler.outbox;

/** A message to publish once the transaction that wrote it has committed. */
public record OutboxMessage(String topic, String key, byte[] payload, String requestId) {}
