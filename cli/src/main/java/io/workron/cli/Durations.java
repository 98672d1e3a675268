package io.workron.cli;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * Durations as people type them: {@code 90}, {@code 90s}, {@code 5m}, {@code 2h}, {@code 1h30m}.
 */
final class Durations {

  private static final Pattern PART = Pattern.compile("(\\d+)([hms])");

  private Durations() {}

  /** Whole seconds; a malformed value is a usage error naming the option. */
  static int seconds(CommandLine line, String option, String value) {
    String v = value.trim().toLowerCase(java.util.Locale.ROOT);
    if (v.length() > 12) {
      throw new CommandLine.ParameterException(line, option + " is far too long: " + value);
    }
    long total = 0;
    if (v.matches("\\d+")) {
      total = Long.parseLong(v);
    } else if (v.matches("(\\d+[hms])+")) {
      Matcher m = PART.matcher(v);
      while (m.find()) {
        long n = Long.parseLong(m.group(1));
        total +=
            switch (m.group(2)) {
              case "h" -> n * 3600;
              case "m" -> n * 60;
              default -> n;
            };
      }
    } else {
      throw new CommandLine.ParameterException(
          line, option + " must be seconds or e.g. 90s, 5m, 2h, 1h30m: " + value);
    }
    if (total < 1 || total > Integer.MAX_VALUE) {
      throw new CommandLine.ParameterException(line, option + " must be at least 1 s: " + value);
    }
    return (int) total;
  }
}
