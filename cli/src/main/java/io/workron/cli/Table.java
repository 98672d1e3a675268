package io.workron.cli;

import java.io.PrintWriter;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import tools.jackson.databind.JsonNode;

/** Columns for people: left-aligned, as wide as their widest cell, the last one unpadded. */
final class Table {

  private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

  private final List<String> headers;
  private final List<List<String>> rows = new ArrayList<>();

  Table(String... headers) {
    this.headers = Arrays.asList(headers);
  }

  Table row(Object... cells) {
    List<String> row = new ArrayList<>(cells.length);
    for (Object cell : cells) {
      row.add(cell == null ? "-" : oneLine(cell.toString()));
    }
    rows.add(row);
    return this;
  }

  boolean isEmpty() {
    return rows.isEmpty();
  }

  void print(PrintWriter out) {
    int[] widths = new int[headers.size()];
    for (int i = 0; i < widths.length; i++) {
      widths[i] = headers.get(i).length();
      for (List<String> row : rows) {
        widths[i] = Math.max(widths[i], row.get(i).length());
      }
    }
    line(out, headers, widths);
    for (List<String> row : rows) {
      line(out, row, widths);
    }
    out.flush();
  }

  private static void line(PrintWriter out, List<String> cells, int[] widths) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      if (i == cells.size() - 1) {
        b.append(cells.get(i));
      } else {
        b.append(cells.get(i)).append(" ".repeat(widths[i] - cells.get(i).length() + 2));
      }
    }
    out.println(b.toString().stripTrailing());
  }

  private static String oneLine(String s) {
    return s.replace('\n', ' ').replace('\r', ' ').replace('\t', ' ');
  }

  /** A field as text, or null when absent or JSON null. */
  static String text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value == null || value.isNull() ? null : value.asString();
  }

  /** A timestamp of the API in this machine's zone, to the second; null stays null. */
  static String when(JsonNode node, String field) {
    String value = text(node, field);
    if (value == null) {
      return null;
    }
    try {
      return OffsetDateTime.parse(value).atZoneSameInstant(ZoneId.systemDefault()).format(WHEN);
    } catch (DateTimeParseException e) {
      return value;
    }
  }

  /** A JSON array's values joined with commas; null for none. */
  static String joined(JsonNode array) {
    if (array == null || !array.isArray() || array.isEmpty()) {
      return null;
    }
    StringBuilder b = new StringBuilder();
    for (JsonNode v : array) {
      b.append(b.isEmpty() ? "" : ",").append(v.asString());
    }
    return b.toString();
  }

  /** {@code s} cut to {@code max} characters, with an ellipsis when cut. */
  static String cut(String s, int max) {
    if (s == null) {
      return null;
    }
    String one = oneLine(s);
    return one.length() <= max ? one : one.substring(0, max - 1) + "…";
  }
}
