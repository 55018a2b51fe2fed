package dev.jbond.orchestrator.report;

import dev.jbond.orchestrator.config.ConfigYaml;
import java.math.BigDecimal;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * The few settings of a run's {@code config.yaml} that a report shows: the objective and its main
 * hyperparameters, the step budget, the seed and the staleness. A setting the file does not hold
 * (or holds with an unreadable value) is empty.
 *
 * @param objective {@code objective.name}: {@code jbond}, {@code bond}, {@code iterative-bond} or
 *     {@code reinforce}
 * @param eta {@code objective.eta}, the EMA rate of J-BOND's anchor
 * @param beta {@code objective.beta}, the Jeffreys mixing weight
 * @param klCoefficient {@code objective.kl-coefficient}, REINFORCE's KL coefficient
 * @param n {@code objective.n}, N of BOND's Best-of-N (n of iterative BOND's Best-of-n)
 * @param steps {@code run.steps}, the run's step budget
 * @param seed {@code run.seed}
 * @param staleness {@code run.staleness}
 */
public record RunSettings(
    Optional<String> objective,
    OptionalDouble eta,
    OptionalDouble beta,
    OptionalDouble klCoefficient,
    OptionalLong n,
    OptionalLong steps,
    OptionalLong seed,
    OptionalLong staleness) {

  /** Settings of a run without a readable {@code config.yaml}: all empty. */
  public static final RunSettings NONE =
      new RunSettings(
          Optional.empty(),
          OptionalDouble.empty(),
          OptionalDouble.empty(),
          OptionalDouble.empty(),
          OptionalLong.empty(),
          OptionalLong.empty(),
          OptionalLong.empty(),
          OptionalLong.empty());

  /**
   * Checks that no component is null.
   *
   * @param objective see the record description
   * @param eta see the record description
   * @param beta see the record description
   * @param klCoefficient see the record description
   * @param n see the record description
   * @param steps see the record description
   * @param seed see the record description
   * @param staleness see the record description
   */
  public RunSettings {
    Objects.requireNonNull(objective, "objective");
    Objects.requireNonNull(eta, "eta");
    Objects.requireNonNull(beta, "beta");
    Objects.requireNonNull(klCoefficient, "klCoefficient");
    Objects.requireNonNull(n, "n");
    Objects.requireNonNull(steps, "steps");
    Objects.requireNonNull(seed, "seed");
    Objects.requireNonNull(staleness, "staleness");
  }

  /**
   * Reads the settings from the text of a {@code config.yaml}.
   *
   * @param yaml the document
   * @return the settings; empty where the document does not hold them
   * @throws IllegalArgumentException when the text is not YAML or its top level is not a mapping
   */
  public static RunSettings parse(String yaml) {
    Object tree;
    try {
      tree = ConfigYaml.parse(yaml);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "Expected a YAML document, found: " + firstLine(e.getMessage()), e);
    }
    if (!(tree instanceof Map<?, ?> root)) {
      throw new IllegalArgumentException(
          "Expected a YAML mapping, found " + (tree == null ? "an empty document" : typeOf(tree)));
    }
    Map<?, ?> objective = section(root, "objective");
    Map<?, ?> run = section(root, "run");
    Object name = objective.get("name");
    return new RunSettings(
        name == null
            ? Optional.empty()
            : Optional.of(name.toString().strip().toLowerCase(Locale.ROOT)),
        real(objective.get("eta")),
        real(objective.get("beta")),
        real(objective.get("kl-coefficient")),
        integer(objective.get("n")),
        integer(run.get("steps")),
        integer(run.get("seed")),
        integer(run.get("staleness")));
  }

  /**
   * Returns the run's name in reports: the objective with the hyperparameter that tells runs of it
   * apart, for example {@code J-BOND (eta 0.02)}, {@code BOND (N 4)}, {@code Iterative BOND (n 2)}
   * or {@code REINFORCE (c 0.1)}; {@code fallback} when the objective is not known.
   *
   * @param fallback the label when the settings name no objective (the directory's name)
   * @return the label
   */
  public String label(String fallback) {
    if (objective.isEmpty()) {
      return fallback;
    }
    String name = objective.get();
    return switch (name) {
      case "jbond" -> "J-BOND" + suffix("eta", eta);
      case "bond" -> "BOND" + suffix("N", n);
      case "iterative-bond" -> "Iterative BOND" + suffix("n", n);
      case "reinforce" -> "REINFORCE" + suffix("c", klCoefficient);
      default -> name;
    };
  }

  /**
   * Returns the objective's display name, {@code J-BOND}, {@code BOND}, {@code Iterative BOND} or
   * {@code REINFORCE}.
   *
   * @return the name; the raw {@code objective.name} when unknown; empty when there is none
   */
  public Optional<String> objectiveName() {
    return objective.map(
        name ->
            switch (name) {
              case "jbond" -> "J-BOND";
              case "bond" -> "BOND";
              case "iterative-bond" -> "Iterative BOND";
              case "reinforce" -> "REINFORCE";
              default -> name;
            });
  }

  /**
   * Formats a number in its shortest plain form ({@code 0.02}, {@code 4}, {@code 1.0E-4} as {@code
   * 0.0001}).
   *
   * @param value the number
   * @return the text
   */
  static String plain(double value) {
    if (!Double.isFinite(value)) {
      return Double.toString(value);
    }
    return BigDecimal.valueOf(value).stripTrailingZeros().toPlainString();
  }

  private static String suffix(String symbol, OptionalDouble value) {
    return value.isPresent() ? " (" + symbol + " " + plain(value.getAsDouble()) + ")" : "";
  }

  private static String suffix(String symbol, OptionalLong value) {
    return value.isPresent() ? " (" + symbol + " " + value.getAsLong() + ")" : "";
  }

  private static Map<?, ?> section(Map<?, ?> root, String key) {
    return root.get(key) instanceof Map<?, ?> m ? m : Map.of();
  }

  private static OptionalDouble real(Object value) {
    if (value instanceof Number number) {
      return OptionalDouble.of(number.doubleValue());
    }
    if (value instanceof String text) {
      try {
        return OptionalDouble.of(Double.parseDouble(text.strip()));
      } catch (NumberFormatException e) {
        return OptionalDouble.empty();
      }
    }
    return OptionalDouble.empty();
  }

  private static OptionalLong integer(Object value) {
    if (value instanceof Integer || value instanceof Long) {
      return OptionalLong.of(((Number) value).longValue());
    }
    if (value instanceof Number number && number.doubleValue() == Math.rint(number.doubleValue())) {
      return OptionalLong.of(number.longValue());
    }
    if (value instanceof String text) {
      try {
        return OptionalLong.of(Long.parseLong(text.strip()));
      } catch (NumberFormatException e) {
        return OptionalLong.empty();
      }
    }
    return OptionalLong.empty();
  }

  private static String typeOf(Object value) {
    return value instanceof List<?> ? "a list" : "the scalar '" + value + "'";
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "unreadable text";
    }
    String line = message.strip();
    int end = line.indexOf('\n');
    return end < 0 ? line : line.substring(0, end).strip();
  }
}
