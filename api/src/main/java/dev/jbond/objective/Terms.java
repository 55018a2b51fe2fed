package dev.jbond.objective;

import dev.jbond.internal.Checks;
import java.util.List;

/** Helpers shared by the objectives: shape checks, baselines, argmax with first-drawn ties. */
final class Terms {
  private Terms() {}

  static void checkShape(List<PromptGroup> groups, SamplePlan plan, String objective) {
    Checks.checkNotEmpty(groups, "prompt group in the " + objective + " batch");
    for (PromptGroup g : groups) {
      Checks.checkArgument(
          g.policySamples().size() == plan.policySamples()
              && g.comparisonSamples().size() == plan.comparisonSamples(),
          "Expected %d policy and %d %s samples for prompt '%s' (%s), found %d and %d",
          plan.policySamples(),
          plan.comparisonSamples(),
          plan.comparisonRole().label(),
          g.prompt().id(),
          objective,
          g.policySamples().size(),
          g.comparisonSamples().size());
    }
  }

  /**
   * Returns the baseline of every entry: 0 for {@link Baseline#NONE}; for leave-one-out the mean of
   * the other entries (0 when there is only one).
   */
  static double[] baselines(double[] returns, Baseline baseline) {
    double[] b = new double[returns.length];
    if (baseline == Baseline.NONE || returns.length < 2) {
      return b;
    }
    double sum = 0;
    for (double r : returns) {
      sum += r;
    }
    for (int i = 0; i < returns.length; i++) {
      b[i] = (sum - returns[i]) / (returns.length - 1);
    }
    return b;
  }

  /** Index of the highest reward; on ties the earliest drawn wins. */
  static int best(List<ScoredSample> samples, int count) {
    int best = 0;
    for (int i = 1; i < count; i++) {
      if (samples.get(i).reward() > samples.get(best).reward()) {
        best = i;
      }
    }
    return best;
  }

  /** Index of the highest of the first {@code count} rewards; on ties the earliest drawn wins. */
  static int best(double[] rewards, int count) {
    int best = 0;
    for (int i = 1; i < count; i++) {
      if (rewards[i] > rewards[best]) {
        best = i;
      }
    }
    return best;
  }

  static double mean(double sum, int n) {
    return n == 0 ? Double.NaN : sum / n;
  }
}
