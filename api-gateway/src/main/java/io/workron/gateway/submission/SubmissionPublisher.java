package io.workron.gateway.submission;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.micrometer.tracing.Span;
import io.workron.gateway.http.UnavailableException;
import io.workron.kafka.JobTraces;
import io.workron.schemas.Envelope;
import io.workron.schemas.Ids;
import io.workron.schemas.JobSubmission;
import io.workron.schemas.MessageType;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.support.SendResult;

/**
 * Writes one {@code job.submitted.v1} to the submissions topic and returns only once the broker
 * acknowledged it ({@code acks=all}): from then on the job cannot be lost. Guarded by the {@code
 * kafka} circuit breaker and a time limit of the produce timeout; never blocks longer than the
 * producer's {@code max.block.ms} on the caller's thread.
 */
class SubmissionPublisher {

  static final String BREAKER = "kafka";
  private static final String DEPENDENCY = "kafka";

  private final KafkaTemplate<String, byte[]> kafka;
  private final Topics topics;
  private final WireCodec codec;
  private final CircuitBreaker breaker;
  private final Duration produceTimeout;
  private final Clock clock;
  private final JobTraces traces;

  SubmissionPublisher(
      KafkaTemplate<String, byte[]> kafka,
      Topics topics,
      WireCodec codec,
      CircuitBreaker breaker,
      Duration produceTimeout,
      Clock clock,
      JobTraces traces) {
    this.traces = traces;
    this.kafka = kafka;
    this.topics = topics;
    this.codec = codec;
    this.breaker = breaker;
    this.produceTimeout = produceTimeout;
    this.clock = clock;
  }

  /**
   * Produces the submission; completes with where the broker stored it once it acknowledged the
   * record, or fails with an {@link UnavailableException}. Only a broker that does not answer in
   * time (or refuses) counts as a failure for the breaker.
   */
  CompletableFuture<RecordMetadata> publish(JobSubmission submission, String requestId) {
    Envelope<JobSubmission> envelope =
        WireCodec.envelope(
            MessageType.JOB_SUBMITTED, Ids.newMessageId("sub", clock), clock.instant(), submission);
    byte[] document = codec.encode(envelope);
    var violations = codec.validate(codec.mapper().readTree(document), MessageType.JOB_SUBMITTED);
    if (!violations.isEmpty()) {
      // SubmissionRules let through what the contract forbids: a bug here, not the client's
      throw new IllegalStateException(
          "submission " + submission.id() + " breaks job.submitted.v1: " + violations);
    }
    ProducerRecord<String, byte[]> record =
        new ProducerRecord<>(topics.submissions(), submission.id(), document);
    record.headers().add(Topics.REQUEST_ID_HEADER, requestId.getBytes(StandardCharsets.UTF_8));
    // the produce is a child of the REST call's span, and scheduler-core's ingest of this one (by
    // hand: Spring Kafka's template observation would ask the broker for its cluster id first,
    // and so hang a request while Kafka is down)
    Span span = traces.startChildOfCurrent("workron.submit", Span.Kind.PRODUCER);
    span.tag("workron.job_id", submission.id());
    traces.inject(span, record.headers());
    Supplier<CompletionStage<SendResult<String, byte[]>>> send =
        () -> {
          try {
            return kafka.send(record).orTimeout(produceTimeout.toMillis(), TimeUnit.MILLISECONDS);
          } catch (RuntimeException e) {
            // the producer refused at once (no metadata within max.block.ms, closed, ...)
            return CompletableFuture.failedFuture(e);
          }
        };
    return CircuitBreaker.decorateCompletionStage(breaker, send)
        .get()
        .toCompletableFuture()
        .handle(
            (sent, failure) -> {
              if (failure == null) {
                span.end();
                return sent.getRecordMetadata();
              }
              span.error(failure);
              span.end();
              throw unavailable(failure);
            });
  }

  private UnavailableException unavailable(Throwable failure) {
    Throwable e =
        failure instanceof CompletionException && failure.getCause() != null
            ? failure.getCause()
            : failure;
    if (e instanceof CallNotPermittedException) {
      return new UnavailableException(
          DEPENDENCY,
          "Kafka has been failing; the gateway is not accepting submissions for a while",
          e);
    }
    if (e instanceof TimeoutException) {
      return new UnavailableException(
          DEPENDENCY,
          "Kafka did not acknowledge the submission within "
              + produceTimeout.toMillis()
              + " ms; it may still arrive, so retry with an Idempotency-Key to avoid a duplicate",
          e);
    }
    return new UnavailableException(
        DEPENDENCY, "Kafka did not take the submission: " + rootMessage(e), e);
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
  }
}
