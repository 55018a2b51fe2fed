package dev.jbond.orchestrator.eval;

import dev.jbond.internal.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One evaluation of a policy against the reference on held-out prompts; one JSON line of a run's
 * {@code eval.jsonl}, with exactly these field names.
 *
 * <p>Definitions (m policy samples y and k reference samples y' per prompt, reward r):
 *
 * <ul>
 *   <li>{@code quantileVsReference}: the mean over prompts and policy samples of the fraction of
 *       the prompt's k reference samples whose reward y beats, ties counting 1/2 (an estimate of
 *       the policy's reward quantile under pi_ref; Best-of-N of pi_ref has N/(N+1));
 *   <li>{@code klReference}: the mean over policy samples of log pi(y|x) - log pi_ref(y|x), the
 *       Monte-Carlo estimate of KL(pi || pi_ref);
 *   <li>{@code bestOfNEquivalent}: the N with N/(N+1) = quantileVsReference, that is q / (1 - q);
 *   <li>{@code frontierKl}: log N - (N-1)/N at that N, the KL of Best-of-N to pi_ref (BOND paper,
 *       section 2), the frontier a policy at this quantile is compared with.
 * </ul>
 *
 * @param step the learner's step count the policy was evaluated at
 * @param rewardMean mean reward of the policy samples
 * @param referenceRewardMean mean reward of the reference samples
 * @param quantileVsReference see above
 * @param klReference see above
 * @param bestOfNEquivalent see above; infinite when the quantile is 1
 * @param frontierKl see above; 0 for N <= 1, infinite (written as JSON null) for infinite N
 * @param prompts held-out prompts evaluated
 * @param samplesPerPrompt policy samples per prompt
 */
public record EvalResult(
    long step,
    double rewardMean,
    double referenceRewardMean,
    double quantileVsReference,
    double klReference,
    double bestOfNEquivalent,
    double frontierKl,
    int prompts,
    int samplesPerPrompt) {

  /**
   * Returns N with N/(N+1) = q.
   *
   * @param quantile q in [0, 1]
   * @return q / (1 - q); infinite at 1
   */
  public static double bestOfN(double quantile) {
    return quantile >= 1 ? Double.POSITIVE_INFINITY : quantile / (1 - quantile);
  }

  /**
   * Returns the KL(pi_BoN || pi_ref) of Best-of-N in the continuous case, log N - (N-1)/N, for real
   * N; 0 for N <= 1 (at or below the reference's own level).
   *
   * @param n N
   * @return the KL in nats; infinite for infinite N
   */
  public static double frontierKl(double n) {
    if (n == Double.POSITIVE_INFINITY) {
      return Double.POSITIVE_INFINITY;
    }
    return n <= 1 ? 0 : Math.log(n) - (n - 1) / n;
  }

  /**
   * Returns the JSON object of one line, fields in declaration order.
   *
   * @return the JSON text without a line break
   */
  public String toJson() {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("step", step);
    fields.put("rewardMean", rewardMean);
    fields.put("referenceRewardMean", referenceRewardMean);
    fields.put("quantileVsReference", quantileVsReference);
    fields.put("klReference", klReference);
    fields.put("bestOfNEquivalent", bestOfNEquivalent);
    fields.put("frontierKl", frontierKl);
    fields.put("prompts", prompts);
    fields.put("samplesPerPrompt", samplesPerPrompt);
    return Json.write(fields);
  }

  /**
   * Parses one line.
   *
   * @param line the JSON object
   * @return the result
   * @throws IllegalArgumentException when the line is not such an object
   */
  public static EvalResult parse(String line) {
    Map<String, Object> m = Json.parseObject(line);
    return new EvalResult(
        integer(m, "step"),
        number(m, "rewardMean"),
        number(m, "referenceRewardMean"),
        number(m, "quantileVsReference"),
        number(m, "klReference"),
        number(m, "bestOfNEquivalent"),
        number(m, "frontierKl"),
        (int) integer(m, "prompts"),
        (int) integer(m, "samplesPerPrompt"));
  }

  /**
   * Reads an {@code eval.jsonl} file; a missing file has no results.
   *
   * @param file the file
   * @return the results in file order
   * @throws IOException when the file cannot be read
   * @throws IllegalArgumentException naming the line when a line is not an evaluation
   */
  public static List<EvalResult> read(Path file) throws IOException {
    List<EvalResult> out = new ArrayList<>();
    if (!Files.exists(file)) {
      return out;
    }
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty()) {
        continue;
      }
      try {
        out.add(parse(line));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "Expected an evaluation on line " + (i + 1) + " of " + file + ": " + e.getMessage(), e);
      }
    }
    return out;
  }

  private static long integer(Map<String, Object> m, String key) {
    Object v = m.get(key);
    if (v instanceof Number n) {
      return n.longValue();
    }
    throw new IllegalArgumentException("Expected an integer '" + key + "', found " + v);
  }

  private static double number(Map<String, Object> m, String key) {
    if (!m.containsKey(key)) {
      throw new IllegalArgumentException("Expected a field '" + key + "', found none");
    }
    Object v = m.get(key);
    if (v == null) {
      return Double.NaN;
    }
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    throw new IllegalArgumentException("Expected a number '" + key + "', found " + v);
  }
}
