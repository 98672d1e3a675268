package io.workron.gateway.ui;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Set;
import org.springframework.stereotype.Component;

/**
 * What the dashboard's templates call to show values: {@code ${@pages.when(job.created_at)}}. Kept
 * small and free of state, so a page shows the API's values and nothing it made up.
 */
@Component("pages")
public class Pages {

  private static final DateTimeFormatter SHOWN =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

  /** Statuses a job ends in. */
  static final Set<String> FINAL = Set.of("done", "failed", "cancelled");

  /** Statuses a cancel applies to. */
  static final Set<String> CANCELLABLE =
      Set.of("blocked", "pending", "reserved", "running", "preempting", "preempted");

  /** An RFC 3339 time as {@code 2026-12-04 18:40:01} (UTC), or an empty string. */
  public String when(Object value) {
    Instant at = instant(value);
    return at == null ? "" : SHOWN.format(at);
  }

  /** How long from {@code start} to {@code end} (or to now while it runs): {@code 1m 05s}. */
  public String took(Object start, Object end) {
    Instant from = instant(start);
    if (from == null) {
      return "";
    }
    Instant to = instant(end);
    Duration d = Duration.between(from, to == null ? Instant.now() : to);
    if (d.isNegative()) {
      return "";
    }
    long s = d.toSeconds();
    if (s < 1) {
      return d.toMillis() + " ms";
    }
    if (s < 60) {
      return s + " s";
    }
    if (s < 3600) {
      return String.format("%dm %02ds", s / 60, s % 60);
    }
    return String.format("%dh %02dm", s / 3600, (s % 3600) / 60);
  }

  /** Whether a job in {@code status} has ended. */
  public boolean isFinal(Object status) {
    return status != null && FINAL.contains(status.toString());
  }

  /** Whether a job in {@code status} can be cancelled. */
  public boolean isCancellable(Object status) {
    return status != null && CANCELLABLE.contains(status.toString());
  }

  /** {@code counts} (status to number) in the order of {@code statuses}, 0 where absent. */
  public java.util.List<java.util.Map.Entry<String, Long>> inOrder(
      Object counts, java.util.List<String> statuses) {
    java.util.List<java.util.Map.Entry<String, Long>> out = new java.util.ArrayList<>();
    for (String s : statuses) {
      Object n = counts instanceof java.util.Map<?, ?> m ? m.get(s) : null;
      out.add(java.util.Map.entry(s, n instanceof Number v ? v.longValue() : 0L));
    }
    return out;
  }

  /** At most {@code max} characters of {@code text}, with an ellipsis when cut. */
  public String cut(Object text, int max) {
    if (text == null) {
      return "";
    }
    String s = text.toString().replace('\n', ' ');
    return s.length() <= max ? s : s.substring(0, Math.max(0, max - 1)) + "…";
  }

  /** Bytes as people read them: {@code 512 B}, {@code 3.4 KiB}. */
  public String bytes(Object value) {
    if (!(value instanceof Number n)) {
      return "";
    }
    double b = n.doubleValue();
    if (b < 1024) {
      return n.longValue() + " B";
    }
    if (b < 1024 * 1024) {
      return String.format("%.1f KiB", b / 1024);
    }
    return String.format("%.1f MiB", b / (1024 * 1024));
  }

  private static Instant instant(Object value) {
    if (value == null || value.toString().isEmpty()) {
      return null;
    }
    try {
      return OffsetDateTime.parse(value.toString()).toInstant();
    } catch (DateTimeParseException e) {
      return null;
    }
  }
}
