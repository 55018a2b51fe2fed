package dev.jbond.reference;

import dev.jbond.internal.Checks;
import dev.jbond.objective.Objective;

/** Trains a tabular policy on an objective's exact gradient (see {@link ExactGradient}). */
public final class ExactTrainer {
  private ExactTrainer() {}

  /**
   * Takes optimizer steps on the exact gradient until its L2 norm falls below {@code tolerance} or
   * {@code maxSteps} steps were taken.
   *
   * @param objective the objective
   * @param backend the tabular backend; its optimizer and learning rate apply
   * @param maxSteps the most steps to take, {@code >= 1}
   * @param tolerance gradient-norm threshold, {@code >= 0}
   * @return the number of steps taken
   */
  public static int train(
      Objective objective, TabularBackend backend, int maxSteps, double tolerance) {
    Checks.checkAtLeast(maxSteps, 1, "steps");
    Checks.checkNonNegative(tolerance, "tolerance");
    for (int s = 1; s <= maxSteps; s++) {
      double[] g = ExactGradient.of(objective, backend);
      if (backend.applyGradient(g, Double.NaN).gradientNorm() < tolerance) {
        return s;
      }
    }
    return maxSteps;
  }
}
