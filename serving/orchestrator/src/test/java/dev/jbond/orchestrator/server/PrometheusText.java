package dev.jbond.orchestrator.server;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format (version 0.0.4), for tests: every line
 * is a {@code # HELP}, a {@code # TYPE} or a sample {@code name{label="value",...} number}; every
 * sample belongs to a declared family (histograms through {@code _bucket}, {@code _count}, {@code
 * _sum}; counters through {@code _total}).
 */
final class PrometheusText {
  private static final String NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
  private static final Pattern TYPE =
      Pattern.compile("# TYPE (" + NAME + ") (counter|gauge|histogram|summary|untyped)");
  private static final Pattern HELP = Pattern.compile("# HELP (" + NAME + ") .*");
  private static final String LABEL = "[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\"";
  private static final Pattern SAMPLE =
      Pattern.compile(
          "("
              + NAME
              + ")(\\{(?:"
              + LABEL
              + "(?:,"
              + LABEL
              + ")*,?)?\\})? (-?[0-9.]+(?:[eE][-+]?[0-9]+)?|NaN|[+-]Inf)( -?[0-9]+)?");

  private PrometheusText() {}

  /**
   * Parses an exposition.
   *
   * @param text the text
   * @return family name to type
   * @throws AssertionError naming the first line that does not parse
   */
  static Map<String, String> parse(String text) {
    Map<String, String> types = new LinkedHashMap<>();
    int n = 0;
    for (String line : text.split("\n")) {
      n++;
      if (line.isEmpty() || line.equals("# EOF")) {
        continue;
      }
      Matcher type = TYPE.matcher(line);
      if (type.matches()) {
        if (types.put(type.group(1), type.group(2)) != null) {
          throw new AssertionError("Line " + n + " declares " + type.group(1) + " twice");
        }
        continue;
      }
      if (HELP.matcher(line).matches()) {
        continue;
      }
      Matcher sample = SAMPLE.matcher(line);
      if (!sample.matches()) {
        throw new AssertionError("Line " + n + " is not Prometheus text: " + line);
      }
      String name = sample.group(1);
      if (family(name, types) == null) {
        throw new AssertionError("Line " + n + ": sample of undeclared family: " + line);
      }
    }
    return types;
  }

  private static String family(String sample, Map<String, String> types) {
    if (types.containsKey(sample)) {
      return sample;
    }
    for (String suffix : new String[] {"_total", "_bucket", "_count", "_sum", "_created"}) {
      if (sample.endsWith(suffix)) {
        String base = sample.substring(0, sample.length() - suffix.length());
        if (types.containsKey(base)) {
          return base;
        }
      }
    }
    return null;
  }
}
