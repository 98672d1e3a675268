package io.workron.worker.jobs;

import io.workron.kafka.JobTraces;
import io.workron.schemas.Envelope;
import io.workron.schemas.Ids;
import io.workron.schemas.JobResult;
import io.workron.schemas.MessageType;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

/**
 * Delivers results to the results topic and waits for the broker's acknowledgement. A result is the
 * only record of what a command did, so a failed send is retried with backoff until it succeeds;
 * only {@link #close()} (the worker going away) ends the retries, and then the result is logged in
 * full at ERROR instead of vanishing.
 */
@Component
class ResultPublisher {

  private static final Logger log = LoggerFactory.getLogger(ResultPublisher.class);
  private static final Duration FIRST_BACKOFF = Duration.ofMillis(200);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);
  private static final Duration SEND_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration LAST_CHANCE = Duration.ofSeconds(5);

  private final KafkaTemplate<String, byte[]> kafka;
  private final WireCodec codec;
  private final Topics topics;
  private final Clock clock;
  private final CompletableFuture<Void> closed = new CompletableFuture<>();

  ResultPublisher(
      KafkaTemplate<String, byte[]> kafka, WireCodec codec, Topics topics, Clock clock) {
    this.kafka = kafka;
    this.codec = codec;
    this.topics = topics;
    this.clock = clock;
  }

  /**
   * Sends {@code result} and blocks until the broker has it. Returns false only when {@link
   * #close()} ended the retries first.
   */
  boolean publish(JobResult result, String requestId, String traceparent) {
    Envelope<JobResult> envelope =
        WireCodec.envelope(
            MessageType.JOB_RESULT, Ids.newMessageId("result", clock), clock.instant(), result);
    byte[] value = codec.encode(envelope);
    Duration backoff = FIRST_BACKOFF;
    for (int attempt = 1; ; attempt++) {
      boolean lastChance = closed.isDone();
      try {
        CompletableFuture<?> sent =
            kafka.send(record(result.jobId(), value, requestId, traceparent));
        // while the worker runs, a send only waits until it is acknowledged or the worker closes
        CompletableFuture<?> done = lastChance ? sent : CompletableFuture.anyOf(sent, closed);
        done.get((lastChance ? LAST_CHANCE : SEND_TIMEOUT).toMillis(), TimeUnit.MILLISECONDS);
        // done, failed (get rethrows), or the worker closed meanwhile: one last wait for the ack
        sent.get(LAST_CHANCE.toMillis(), TimeUnit.MILLISECONDS);
        return true;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return gaveUp(value, "the worker thread was interrupted");
      } catch (ExecutionException | TimeoutException | RuntimeException e) {
        if (closed.isDone()) {
          return gaveUp(value, "the worker is shutting down (" + e + ")");
        }
        Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
        log.warn(
            "could not deliver result job_id={} attempt={} (try {}): {}; retrying in {} ms",
            result.jobId(),
            result.attempt(),
            attempt,
            cause.toString(),
            backoff.toMillis());
      }
      waitOrClosed(backoff);
      Duration doubled = backoff.multipliedBy(2);
      backoff = doubled.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : doubled;
    }
  }

  /**
   * Sends a running attempt's recent output without waiting: best effort, since the next one (or
   * the result) replaces it.
   */
  void publishOutput(io.workron.schemas.JobOutput output) {
    byte[] value =
        codec.encode(
            WireCodec.envelope(
                MessageType.JOB_OUTPUT,
                Ids.newMessageId("output", clock),
                clock.instant(),
                output));
    kafka
        .send(record(output.jobId(), value, null, null))
        .whenComplete(
            (sent, failure) -> {
              if (failure != null) {
                log.debug("output of job_id={} not sent: {}", output.jobId(), failure.toString());
              }
            });
  }

  /**
   * Sends a running attempt's checkpoint without waiting: best effort, since the attempt's result
   * carries the file's last content again.
   */
  void publishCheckpoint(io.workron.schemas.JobCheckpoint checkpoint) {
    byte[] value =
        codec.encode(
            WireCodec.envelope(
                MessageType.JOB_CHECKPOINT,
                Ids.newMessageId("checkpoint", clock),
                clock.instant(),
                checkpoint));
    kafka
        .send(record(checkpoint.jobId(), value, null, null))
        .whenComplete(
            (sent, failure) -> {
              if (failure != null) {
                log.debug(
                    "checkpoint of job_id={} not sent: {}", checkpoint.jobId(), failure.toString());
              }
            });
  }

  private ProducerRecord<String, byte[]> record(
      String jobId, byte[] value, String requestId, String traceparent) {
    ProducerRecord<String, byte[]> record = new ProducerRecord<>(topics.results(), jobId, value);
    if (requestId != null) {
      record.headers().add(Topics.REQUEST_ID_HEADER, requestId.getBytes(StandardCharsets.UTF_8));
    }
    if (traceparent != null) {
      // scheduler-core's result span continues the attempt's
      record.headers().add(JobTraces.TRACEPARENT, traceparent.getBytes(StandardCharsets.UTF_8));
    }
    return record;
  }

  /**
   * Ends the retries: a send in progress or started later gets one last try of {@link
   * #LAST_CHANCE}; if that fails too the result is logged at ERROR.
   */
  void close() {
    closed.complete(null);
  }

  private void waitOrClosed(Duration backoff) {
    try {
      closed.get(backoff.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      // the backoff elapsed: try again
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private boolean gaveUp(byte[] value, String why) {
    log.error(
        "result NOT delivered because {}; the scheduler will re-queue the attempt when the worker"
            + " stops listing it. Result: {}",
        why,
        new String(value, StandardCharsets.UTF_8));
    return false;
  }
}
