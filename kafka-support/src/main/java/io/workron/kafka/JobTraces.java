package io.workron.kafka;

import io.micrometer.tracing.Span;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.propagation.Propagator;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.springframework.beans.factory.ObjectProvider;

/**
 * A job's trace across the services, carried where Spring's observations do not reach: in the
 * {@code traceparent} header (W3C Trace Context) of the records a batch listener reads or the
 * outbox relay writes, in the job's row between its submission and a dispatch minutes later, and in
 * the job process's {@code TRACEPARENT}.
 *
 * <p>With tracing off ({@link TracingSwitch}: Spring Boot's no-op tracer) every span is a no-op and
 * {@link #traceparent} is null, so nothing is written.
 */
public final class JobTraces {

  /** The W3C header; its value is {@code 00-<trace id>-<span id>-<flags>}. */
  public static final String TRACEPARENT = "traceparent";

  private static final Pattern VALID =
      Pattern.compile("[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}");

  private final Tracer tracer;
  private final Propagator propagator;

  public JobTraces(Tracer tracer, Propagator propagator) {
    this.tracer = tracer;
    this.propagator = propagator;
  }

  /** The service's tracer, or no-op spans when tracing is off. */
  public static JobTraces of(ObjectProvider<Tracer> tracer, ObjectProvider<Propagator> propagator) {
    return new JobTraces(
        tracer.getIfAvailable(() -> Tracer.NOOP), propagator.getIfAvailable(() -> Propagator.NOOP));
  }

  public Tracer tracer() {
    return tracer;
  }

  /** Whether spans are recorded (a tracer other than the no-op one). */
  public boolean on() {
    return tracer != Tracer.NOOP;
  }

  /**
   * Starts a span that continues {@code traceparent} (a stored or received one), or starts a new
   * trace when it is null or malformed. A null {@code kind} is an internal span. The caller ends
   * it.
   */
  public Span start(String name, Span.Kind kind, String traceparent) {
    Span.Builder builder;
    if (traceparent != null && VALID.matcher(traceparent).matches()) {
      builder = propagator.extract(Map.of(TRACEPARENT, traceparent), Map::get);
    } else {
      builder = tracer.spanBuilder().setNoParent();
    }
    builder = builder.name(name);
    return (kind == null ? builder : builder.kind(kind)).start();
  }

  /** Starts a child of the span in scope on this thread (a new trace when there is none). */
  public Span startChildOfCurrent(String name, Span.Kind kind) {
    io.micrometer.tracing.TraceContext current = tracer.currentTraceContext().context();
    Span.Builder builder = tracer.spanBuilder();
    builder = current == null ? builder.setNoParent() : builder.setParent(current);
    builder = builder.name(name);
    return (kind == null ? builder : builder.kind(kind)).start();
  }

  /** Starts a span continuing the {@code traceparent} header of a record. */
  public Span start(String name, Span.Kind kind, Headers headers) {
    return start(name, kind, traceparent(headers));
  }

  /** The {@code traceparent} that makes a receiver's span a child of {@code span}; or null. */
  public String traceparent(Span span) {
    if (span == null || span.isNoop()) {
      return null;
    }
    Map<String, String> carrier = new HashMap<>(2);
    propagator.inject(span.context(), carrier, Map::put);
    return carrier.get(TRACEPARENT);
  }

  /** Puts {@code span}'s context in {@code headers}, replacing any there. */
  public void inject(Span span, Headers headers) {
    String value = traceparent(span);
    if (value != null) {
      headers.remove(TRACEPARENT);
      headers.add(TRACEPARENT, value.getBytes(StandardCharsets.UTF_8));
    }
  }

  /** A record's {@code traceparent} header, or null. */
  public static String traceparent(Headers headers) {
    Header header = headers.lastHeader(TRACEPARENT);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }
}
