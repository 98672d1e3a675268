package io.workron.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** Latency percentiles in milliseconds, from a histogram of microseconds. */
record Percentiles(long count, double p50, double p95, double p99, double max) {

  static Percentiles of(Histogram micros) {
    if (micros.getTotalCount() == 0) {
      return new Percentiles(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
    }
    return new Percentiles(
        micros.getTotalCount(),
        ms(micros.getValueAtPercentile(50)),
        ms(micros.getValueAtPercentile(95)),
        ms(micros.getValueAtPercentile(99)),
        ms(micros.getMaxValue()));
  }

  private static double ms(long micros) {
    return micros / 1000.0;
  }

  Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("p50", Report.round(p50, 3));
    m.put("p95", Report.round(p95, 3));
    m.put("p99", Report.round(p99, 3));
    m.put("max", Report.round(max, 3));
    return m;
  }
}
