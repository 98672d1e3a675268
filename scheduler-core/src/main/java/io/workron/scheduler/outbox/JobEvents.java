package io.workron.scheduler.outbox;

import io.workron.scheduler.core.JobStatus;
import io.workron.schemas.JobEvent;
import io.workron.schemas.MessageType;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import org.springframework.stereotype.Component;

/** Builds the outbox rows of lifecycle events ({@code job.event.v1} on the job-events topic). */
@Component
public class JobEvents {

  private final WireCodec codec;
  private final Topics topics;
  private final Clock clock;

  public JobEvents(WireCodec codec, Topics topics, Clock clock) {
    this.codec = codec;
    this.topics = topics;
    this.clock = clock;
  }

  /** Event with just the status change. */
  public OutboxMessage simple(
      String jobId, JobStatus status, int attempt, String reason, String queue) {
    return of(
        new JobEvent(jobId, status.wire(), attempt, null, null, reason, queue, null, null, null),
        null);
  }

  public OutboxMessage of(JobEvent event, String requestId) {
    // a deterministic id lets consumers drop the duplicates at-least-once delivery brings
    String id = "evt-" + event.jobId() + "-" + event.status() + "-" + event.attempt();
    byte[] bytes =
        codec.encode(WireCodec.envelope(MessageType.JOB_EVENT, id, clock.instant(), event));
    return new OutboxMessage(topics.jobEvents(), event.jobId(), bytes, requestId);
  }

  public static Instant instant(OffsetDateTime t) {
    return t == null ? null : t.toInstant();
  }
}
