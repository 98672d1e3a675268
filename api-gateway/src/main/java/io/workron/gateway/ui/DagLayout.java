package io.workron.gateway.ui;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Lays a dependency graph out in columns, left to right: each job one column right of the furthest
 * of its dependencies, and within a column near the middle of what it depends on, so the page can
 * draw it as SVG with no script. A job system's DAGs are shallow and narrow, and this is drawn from
 * at most a few hundred jobs.
 */
final class DagLayout {

  static final int BOX_W = 230;
  static final int BOX_H = 46;
  static final int GAP_X = 70;
  static final int GAP_Y = 18;
  static final int PAD = 12;

  /** A job's box: where it is drawn and what it shows. */
  record Box(String id, String status, String command, int x, int y, boolean focus, String label) {}

  /** An edge, drawn from the right side of a dependency to the left side of its dependent. */
  record Edge(String from, String to, String path) {}

  record Drawing(List<Box> boxes, List<Edge> edges, int width, int height) {}

  private DagLayout() {}

  static Drawing of(
      List<Map<String, Object>> nodes, List<Map<String, Object>> edges, String focus) {
    Map<String, Map<String, Object>> byId = new LinkedHashMap<>();
    for (Map<String, Object> n : nodes) {
      byId.put(String.valueOf(n.get("id")), n);
    }
    Map<String, List<String>> upstream = new HashMap<>();
    for (Map<String, Object> e : edges) {
      String from = String.valueOf(e.get("from"));
      String to = String.valueOf(e.get("to"));
      if (byId.containsKey(from) && byId.containsKey(to)) {
        upstream.computeIfAbsent(to, k -> new ArrayList<>()).add(from);
      }
    }
    Map<String, Integer> column = new HashMap<>();
    for (String id : byId.keySet()) {
      columnOf(id, upstream, column, 0);
    }
    int columns = column.values().stream().mapToInt(Integer::intValue).max().orElse(0) + 1;
    List<List<String>> byColumn = new ArrayList<>();
    for (int c = 0; c < columns; c++) {
      byColumn.add(new ArrayList<>());
    }
    byId.keySet().forEach(id -> byColumn.get(column.get(id)).add(id));
    Map<String, Double> row = new HashMap<>();
    for (List<String> ids : byColumn) {
      // near the middle of what each depends on, then by id, so the drawing is stable
      ids.sort(
          Comparator.comparingDouble(
                  (String id) ->
                      upstream.getOrDefault(id, List.of()).stream()
                          .mapToDouble(u -> row.getOrDefault(u, 0.0))
                          .average()
                          .orElse(0.0))
              .thenComparing(id -> id));
      for (int i = 0; i < ids.size(); i++) {
        row.put(ids.get(i), (double) i);
      }
    }
    int rows = byColumn.stream().mapToInt(List::size).max().orElse(1);
    Map<String, int[]> at = new HashMap<>();
    List<Box> boxes = new ArrayList<>();
    for (int c = 0; c < columns; c++) {
      for (String id : byColumn.get(c)) {
        int x = PAD + c * (BOX_W + GAP_X);
        int y = PAD + row.get(id).intValue() * (BOX_H + GAP_Y);
        at.put(id, new int[] {x, y});
        Map<String, Object> n = byId.get(id);
        Object command = n.get("command");
        boxes.add(
            new Box(
                id,
                String.valueOf(n.get("status")),
                command == null ? "" : command.toString(),
                x,
                y,
                id.equals(focus),
                id.length() <= 28 ? id : "…" + id.substring(id.length() - 27)));
      }
    }
    List<Edge> drawn = new ArrayList<>();
    for (Map.Entry<String, List<String>> e : upstream.entrySet()) {
      int[] to = at.get(e.getKey());
      for (String from : e.getValue()) {
        int[] f = at.get(from);
        int x1 = f[0] + BOX_W;
        int y1 = f[1] + BOX_H / 2;
        int x2 = to[0];
        int y2 = to[1] + BOX_H / 2;
        int mid = (x1 + x2) / 2;
        drawn.add(
            new Edge(
                from,
                e.getKey(),
                "M" + x1 + " " + y1 + " C" + mid + " " + y1 + " " + mid + " " + y2 + " " + x2 + " "
                    + y2));
      }
    }
    int width = PAD * 2 + columns * BOX_W + (columns - 1) * GAP_X;
    int height = PAD * 2 + rows * BOX_H + (rows - 1) * GAP_Y;
    return new Drawing(boxes, drawn, width, height);
  }

  /** One column right of the furthest dependency; depth-bounded, as a graph from the API is. */
  private static int columnOf(
      String id, Map<String, List<String>> upstream, Map<String, Integer> column, int depth) {
    Integer known = column.get(id);
    if (known != null) {
      return known;
    }
    int c = 0;
    if (depth < 1000) {
      for (String u : upstream.getOrDefault(id, List.of())) {
        c = Math.max(c, columnOf(u, upstream, column, depth + 1) + 1);
      }
    }
    column.put(id, c);
    return c;
  }
}
