package io.workron.gateway.submission;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.timelimiter.TimeLimiter;
import io.workron.gateway.http.UnavailableException;
import io.workron.schemas.Envelope;
import io.workron.schemas.Ids;
import io.workron.schemas.JobSubmission;
import io.workron.schemas.MessageType;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.support.SendResult;

/**
 * Writes one {@code job.submitted.v1} to the submissions topic and returns only once the broker
 * acknowledged it ({@code acks=all}): from then on the job cannot be lost. Guarded by the {@code
 * kafka} circuit breaker and a time limit of the produce timeout.
 */
class SubmissionPublisher {

  static final String BREAKER = "kafka";
  private static final String DEPENDENCY = "kafka";

  private final KafkaTemplate<String, byte[]> kafka;
  private final Topics topics;
  private final WireCodec codec;
  private final CircuitBreaker breaker;
  private final TimeLimiter timeLimiter;
  private final Clock clock;

  SubmissionPublisher(
      KafkaTemplate<String, byte[]> kafka,
      Topics topics,
      WireCodec codec,
      CircuitBreaker breaker,
      TimeLimiter timeLimiter,
      Clock clock) {
    this.kafka = kafka;
    this.topics = topics;
    this.codec = codec;
    this.breaker = breaker;
    this.timeLimiter = timeLimiter;
    this.clock = clock;
  }

  void publish(JobSubmission submission, String requestId) {
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
    Callable<SendResult<String, byte[]>> send =
        CircuitBreaker.decorateCallable(
            breaker, () -> timeLimiter.executeFutureSupplier(() -> kafka.send(record)));
    try {
      send.call();
    } catch (CallNotPermittedException e) {
      throw new UnavailableException(
          DEPENDENCY,
          "Kafka has been failing; the gateway is not accepting submissions for a while",
          e);
    } catch (TimeoutException e) {
      throw new UnavailableException(
          DEPENDENCY,
          "Kafka did not acknowledge the submission within "
              + limit().toMillis()
              + " ms; it may still arrive, so retry with an Idempotency-Key to avoid a duplicate",
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UnavailableException(DEPENDENCY, "interrupted while waiting for Kafka", e);
    } catch (ExecutionException
        | org.apache.kafka.common.KafkaException
        | org.springframework.kafka.KafkaException e) {
      throw new UnavailableException(
          DEPENDENCY, "Kafka did not take the submission: " + rootMessage(e), e);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("unexpected failure producing " + submission.id(), e);
    }
  }

  private Duration limit() {
    return timeLimiter.getTimeLimiterConfig().getTimeoutDuration();
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
  }
}
