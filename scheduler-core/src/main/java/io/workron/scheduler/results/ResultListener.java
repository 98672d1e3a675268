package io.workron.scheduler.results;

import io.micrometer.tracing.Span;
import io.workron.kafka.JobTraces;
import io.workron.scheduler.consume.PollApplier;
import io.workron.scheduler.liveness.Watermarks;
import io.workron.schemas.MessageType;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

/**
 * Consumes {@code workron.results} a poll at a time, through the {@link PollApplier}; offsets are
 * committed after the database.
 */
@Component
class ResultListener {

  private final WireCodec codec;
  private final PollApplier applier;
  private final ResultStore store;
  private final Watermarks watermarks;
  private final JobTraces traces;

  ResultListener(
      WireCodec codec,
      PollApplier applier,
      ResultStore store,
      Watermarks watermarks,
      JobTraces traces) {
    this.codec = codec;
    this.applier = applier;
    this.store = store;
    this.watermarks = watermarks;
    this.traces = traces;
  }

  @KafkaListener(
      id = "results",
      topics = "#{@topics.results()}",
      groupId = "#{@topics.prefix()}-scheduler-results",
      concurrency = "${workron.scheduler.results-concurrency:2}",
      batch = "true")
  void onBatch(List<ConsumerRecord<String, byte[]>> records) {
    // a record from a traced attempt gets a span continuing the worker's, until the poll is applied
    List<Span> spans = new ArrayList<>();
    try {
      applier.apply(
          "results",
          records.stream().filter(r -> r.headers().lastHeader(Topics.TICK_HEADER) == null).toList(),
          record -> {
            if (JobTraces.traceparent(record.headers()) != null) {
              Span span = traces.start("workron.result", Span.Kind.CONSUMER, record.headers());
              span.tag("workron.job_id", String.valueOf(record.key()));
              spans.add(span);
            }
            return decode(record);
          },
          store::applyAll,
          // every record of the poll, ticks included, is handled: the partitions' watermarks move
          () -> watermarks.advance(Watermarks.Kind.RESULTS, records));
    } finally {
      spans.forEach(Span::end);
    }
  }

  /** What the results topic carries: results, and running attempts' output and checkpoints. */
  private static final List<MessageType<?>> TYPES =
      List.of(MessageType.JOB_RESULT, MessageType.JOB_OUTPUT, MessageType.JOB_CHECKPOINT);

  /** A result, or else a running attempt's recent output or checkpoint; parsed once. */
  private Object decode(ConsumerRecord<String, byte[]> record)
      throws io.workron.schemas.InvalidMessageException {
    return codec.decodeAny(record.value(), TYPES).payload();
  }
}
