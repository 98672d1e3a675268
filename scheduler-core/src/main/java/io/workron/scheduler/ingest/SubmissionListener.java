package io.workron.scheduler.ingest;

import io.micrometer.tracing.Span;
import io.workron.kafka.JobTraces;
import io.workron.scheduler.consume.PollApplier;
import io.workron.schemas.Envelope;
import io.workron.schemas.JobCancel;
import io.workron.schemas.JobSubmission;
import io.workron.schemas.MessageType;
import io.workron.schemas.Topics;
import io.workron.schemas.WireCodec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.stereotype.Component;

/**
 * Consumes {@code workron.submissions} (submissions, and cancels) a poll at a time. The whole poll
 * is stored in one transaction; the container commits the offsets only after this method returns,
 * that is after PostgreSQL has committed, so an acknowledged submission is never lost and a
 * redelivered one is ignored by its job id. Then the poll's offsets are recorded as ingest
 * progress.
 */
@Component
class SubmissionListener {

  private final WireCodec codec;
  private final PollApplier applier;
  private final SubmissionStore store;
  private final JobTraces traces;

  SubmissionListener(
      WireCodec codec, PollApplier applier, SubmissionStore store, JobTraces traces) {
    this.codec = codec;
    this.applier = applier;
    this.store = store;
    this.traces = traces;
  }

  @KafkaListener(
      id = "submissions",
      topics = "#{@topics.submissions()}",
      groupId = "#{@topics.prefix()}-scheduler-submissions",
      concurrency = "${workron.scheduler.ingest-concurrency:2}",
      batch = "true")
  void onBatch(List<ConsumerRecord<String, byte[]>> records) {
    // Spring Kafka observes no batch listener: each record's span continues the trace of its
    // producer (the gateway's REST call) by hand, and lasts until the poll is stored
    List<Span> spans = new ArrayList<>(records.size());
    try {
      applier.apply(
          "submissions",
          records,
          record -> decode(record, spans),
          store::store,
          // only now: every record of the poll is stored or dead-lettered
          () -> store.recordProgress(nextOffsets(records)));
    } finally {
      spans.forEach(Span::end);
    }
  }

  private SubmissionStore.Intake decode(ConsumerRecord<String, byte[]> record, List<Span> spans)
      throws io.workron.schemas.InvalidMessageException {
    Span span = traces.start("workron.ingest", Span.Kind.CONSUMER, record.headers());
    spans.add(span);
    span.tag("workron.job_id", String.valueOf(record.key()));
    try {
      return decode(record, traces.traceparent(span));
    } catch (io.workron.schemas.InvalidMessageException e) {
      span.error(e);
      throw e;
    }
  }

  /** A submission, or else a cancel ({@code job.cancel.v1} shares the topic, keyed by job id). */
  private SubmissionStore.Intake decode(ConsumerRecord<String, byte[]> record, String traceparent)
      throws io.workron.schemas.InvalidMessageException {
    Envelope<JobSubmission> envelope;
    try {
      envelope = codec.decode(record.value(), MessageType.JOB_SUBMITTED);
    } catch (io.workron.schemas.InvalidMessageException e) {
      if (e.reason() != io.workron.schemas.InvalidMessageException.Reason.WRONG_TYPE) {
        throw e;
      }
      JobCancel cancel;
      try {
        cancel = codec.decode(record.value(), MessageType.JOB_CANCEL).payload();
      } catch (io.workron.schemas.InvalidMessageException notACancel) {
        throw notACancel.reason() == e.reason() ? e : notACancel;
      }
      return new SubmissionStore.Cancel(cancel.jobId(), cancel.reason());
    }
    JobSubmission job = envelope.payload();
    if (job.dependsOn() != null && job.dependsOn().contains(job.id())) {
      throw new io.workron.schemas.InvalidMessageException(
          io.workron.schemas.InvalidMessageException.Reason.DEPENDENCY_CYCLE,
          "/payload/depends_on",
          "a job cannot depend on itself");
    }
    return new SubmissionStore.Accepted(
        envelope.payload().withDefaults(), requestId(record), envelope.time(), traceparent);
  }

  /** Per partition, the offset after the last record of the poll. */
  static Map<Integer, Long> nextOffsets(List<ConsumerRecord<String, byte[]>> records) {
    Map<Integer, Long> next = new HashMap<>();
    for (ConsumerRecord<String, byte[]> r : records) {
      next.merge(r.partition(), r.offset() + 1, Math::max);
    }
    return next;
  }

  static String requestId(ConsumerRecord<String, byte[]> record) {
    Header h = record.headers().lastHeader(Topics.REQUEST_ID_HEADER);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }
}
