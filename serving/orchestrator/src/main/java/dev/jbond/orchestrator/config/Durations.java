package dev.jbond.orchestrator.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;

/**
 * Durations as people write them in configuration files: a number with a unit ({@code 250ms},
 * {@code 30s}, {@code 2m}, {@code 1h}, {@code 1.5s}) or ISO-8601 ({@code PT30S}).
 */
public final class Durations {
  private static final java.util.regex.Pattern SIMPLE =
      java.util.regex.Pattern.compile("([0-9]+(?:\\.[0-9]+)?)\\s*(ms|s|m|h)");

  private Durations() {}

  /**
   * Parses a duration.
   *
   * @param text the text
   * @return the duration
   * @throws IllegalArgumentException when the text is neither form
   */
  public static Duration parse(String text) {
    String s = text.strip().toLowerCase(Locale.ROOT);
    Matcher m = SIMPLE.matcher(s);
    if (m.matches()) {
      double amount = Double.parseDouble(m.group(1));
      double nanos =
          amount
              * switch (m.group(2)) {
                case "ms" -> 1e6;
                case "s" -> 1e9;
                case "m" -> 60e9;
                default -> 3600e9;
              };
      return Duration.ofNanos(Math.round(nanos));
    }
    try {
      return Duration.parse(text.strip());
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          "expected a duration such as 30s, 500ms or 2m, found \"" + text + "\"", e);
    }
  }

  /**
   * Formats a duration in the shortest exact simple form ({@code 2m}, {@code 30s}, {@code 250ms});
   * falls back to ISO-8601 below a millisecond.
   *
   * @param d the duration
   * @return the text
   */
  public static String format(Duration d) {
    long nanos = d.toNanos();
    if (nanos % 3_600_000_000_000L == 0 && nanos != 0) {
      return nanos / 3_600_000_000_000L + "h";
    }
    if (nanos % 60_000_000_000L == 0 && nanos != 0) {
      return nanos / 60_000_000_000L + "m";
    }
    if (nanos % 1_000_000_000L == 0) {
      return nanos / 1_000_000_000L + "s";
    }
    if (nanos % 1_000_000L == 0) {
      return nanos / 1_000_000L + "ms";
    }
    return d.toString();
  }
}
