package io.workron.scheduler.dispatch;

import io.workron.scheduler.outbox.Outbox;
import io.workron.scheduler.outbox.OutboxMessage;
import io.workron.schemas.JobStop;
import io.workron.schemas.MessageType;
import io.workron.schemas.StopCause;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.springframework.stereotype.Component;

/**
 * Writes {@code job.stop.v1} orders to the outbox, inside the caller's transaction: to the worker's
 * dispatch topic, keyed by the job id, so the relay publishes a stop after the dispatch of the
 * attempt it stops (same topic, committed later). A worker too old to read them dead-letters them;
 * the take-back that caused the stop has happened anyway.
 */
@Component
public class StopOrders {

  /** One attempt to stop, where it runs. */
  public record Order(String jobId, int attempt, String workerId, String incarnation) {}

  private final Outbox outbox;
  private final WireCodec codec;
  private final Topics topics;

  StopOrders(Outbox outbox, WireCodec codec, Topics topics) {
    this.outbox = outbox;
    this.codec = codec;
    this.topics = topics;
  }

  /** Orders each attempt stopped for {@code cause}; orders without a worker are skipped. */
  public void send(Collection<Order> orders, StopCause cause, String reason, OffsetDateTime now) {
    send(orders, cause, reason, null, now);
  }

  /**
   * As {@link #send(Collection, StopCause, String, OffsetDateTime)}, for a drain round: the worker
   * echoes {@code epoch} in its result, so a late acknowledgement of an older round is told apart.
   */
  public void send(
      Collection<Order> orders, StopCause cause, String reason, Integer epoch, OffsetDateTime now) {
    List<OutboxMessage> messages = new ArrayList<>(orders.size());
    for (Order o : orders) {
      if (o.workerId() == null || o.incarnation() == null) {
        continue;
      }
      JobStop stop =
          new JobStop(o.jobId(), o.attempt(), o.workerId(), o.incarnation(), cause, reason, epoch);
      String id =
          "stop-"
              + o.jobId()
              + "-"
              + o.attempt()
              + "-"
              + cause.wire()
              + (epoch == null ? "" : "-" + epoch);
      messages.add(
          new OutboxMessage(
              topics.dispatch(o.workerId()),
              o.jobId(),
              codec.encode(WireCodec.envelope(MessageType.JOB_STOP, id, now.toInstant(), stop)),
              null));
    }
    outbox.addAll(messages);
  }
}
