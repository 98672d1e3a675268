package io.workron.gateway.ui;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The overview's two charts, drawn as SVG on the server: jobs ended per minute (stacked bars: done,
 * failed, cancelled) and submit-to-start time per minute (median and 95th percentile lines).
 * Coordinates only; the template draws them.
 */
final class Charts {

  static final int W = 900;
  static final int H = 180;
  static final int LEFT = 48;
  static final int BOTTOM = 22;

  record Bar(int x, int y, int width, int height, String kind, String title) {}

  record Tick(int y, String label) {}

  record Line(String kind, String points) {}

  record Chart(List<Bar> bars, List<Line> lines, List<Tick> ticks, List<Tick> xTicks) {}

  private Charts() {}

  static Chart throughput(List<Map<String, Object>> minutes) {
    int n = Math.max(1, minutes.size());
    // at least 4, so that the four grid lines fall on whole jobs
    double most = 4;
    for (Map<String, Object> m : minutes) {
      most = Math.max(most, num(m, "done") + num(m, "failed") + num(m, "cancelled"));
    }
    double top = 4 * nice(most / 4);
    double slot = (W - LEFT) / (double) n;
    int barW = Math.max(1, (int) Math.floor(slot) - 2);
    List<Bar> bars = new ArrayList<>();
    for (int i = 0; i < minutes.size(); i++) {
      Map<String, Object> m = minutes.get(i);
      int x = LEFT + (int) Math.round(i * slot) + 1;
      double base = 0;
      for (String kind : List.of("done", "failed", "cancelled")) {
        double v = num(m, kind);
        if (v <= 0) {
          continue;
        }
        int y0 = y(base, top);
        int y1 = y(base + v, top);
        bars.add(
            new Bar(
                x,
                y1,
                barW,
                Math.max(1, y0 - y1),
                kind,
                shortMinute(m) + " · " + (long) v + " " + kind));
        base += v;
      }
    }
    return new Chart(bars, List.of(), ticks(top, ""), xTicks(minutes, slot));
  }

  static Chart latency(List<Map<String, Object>> minutes) {
    double most = 4;
    for (Map<String, Object> m : minutes) {
      most = Math.max(most, num(m, "wait_p95_ms"));
    }
    double top = 4 * nice(most / 4);
    double slot = (W - LEFT) / (double) Math.max(1, minutes.size());
    // one polyline per run of minutes with figures, so a quiet minute is a gap, not a slope
    List<Line> lines = new ArrayList<>();
    for (String key : List.of("wait_p50_ms", "wait_p95_ms")) {
      StringBuilder points = new StringBuilder();
      for (int i = 0; i <= minutes.size(); i++) {
        Object v = i < minutes.size() ? minutes.get(i).get(key) : null;
        if (v instanceof Number number) {
          int x = LEFT + (int) Math.round((i + 0.5) * slot);
          points.append(x).append(',').append(y(number.doubleValue(), top)).append(' ');
        } else if (points.length() > 0) {
          String run = points.toString().strip();
          if (!run.contains(" ")) {
            // a single minute: a short flat stroke, so that it shows
            String[] xy = run.split(",");
            int x = Integer.parseInt(xy[0]);
            run = (x - 3) + "," + xy[1] + " " + (x + 3) + "," + xy[1];
          }
          lines.add(new Line(key.equals("wait_p50_ms") ? "p50" : "p95", run));
          points.setLength(0);
        }
      }
    }
    return new Chart(List.of(), lines, ticks(top, " ms"), xTicks(minutes, slot));
  }

  private static List<Tick> ticks(double top, String unit) {
    List<Tick> ticks = new ArrayList<>();
    for (int i = 0; i <= 4; i++) {
      double v = top * i / 4;
      ticks.add(
          new Tick(
              y(v, top),
              (v == Math.rint(v) ? Long.toString((long) v) : String.format("%.1f", v)) + unit));
    }
    return ticks;
  }

  /** A label every 10 minutes: its time of day (UTC). */
  private static List<Tick> xTicks(List<Map<String, Object>> minutes, double slot) {
    List<Tick> ticks = new ArrayList<>();
    for (int i = 0; i < minutes.size(); i++) {
      String m = shortMinute(minutes.get(i));
      if (m.endsWith("0")) {
        ticks.add(new Tick(LEFT + (int) Math.round((i + 0.5) * slot), m));
      }
    }
    return ticks;
  }

  private static String shortMinute(Map<String, Object> m) {
    String s = String.valueOf(m.get("minute"));
    int t = s.indexOf('T');
    return t >= 0 && s.length() >= t + 6 ? s.substring(t + 1, t + 6) : s;
  }

  private static int y(double v, double top) {
    return (int) Math.round((H - BOTTOM) - v / top * (H - BOTTOM - 8));
  }

  /** A round number at or above {@code v}: 1, 2 or 5 times a power of ten. */
  static double nice(double v) {
    double p = Math.pow(10, Math.floor(Math.log10(v)));
    for (double f : new double[] {1, 2, 5, 10}) {
      if (f * p >= v) {
        return f * p;
      }
    }
    return 10 * p;
  }

  private static double num(Map<String, Object> m, String key) {
    return m.get(key) instanceof Number n ? n.doubleValue() : 0;
  }
}
