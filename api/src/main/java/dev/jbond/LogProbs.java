package dev.jbond;

import java.util.Arrays;

/**
 * An immutable sequence of per-token log-probabilities (natural log), for example those an
 * inference engine reports for the tokens it sampled.
 */
public final class LogProbs {
  private final double[] values;

  private LogProbs(double[] values) {
    this.values = values;
  }

  /**
   * Returns log-probabilities holding a copy of {@code values}.
   *
   * @param values per-token log-probabilities, each {@code <= 0} and not NaN
   * @return the sequence
   * @throws IllegalArgumentException when a value is NaN or positive
   */
  public static LogProbs of(double... values) {
    for (int i = 0; i < values.length; i++) {
      if (!(values[i] <= 1e-6)) {
        throw new IllegalArgumentException(
            "Expected log-probabilities <= 0, found " + values[i] + " at position " + i);
      }
    }
    return new LogProbs(values.clone());
  }

  /**
   * Returns the number of values.
   *
   * @return the length
   */
  public int length() {
    return values.length;
  }

  /**
   * Returns the value at {@code index}.
   *
   * @param index a position in {@code [0, length())}
   * @return the log-probability
   */
  public double get(int index) {
    return values[index];
  }

  /**
   * Returns the sum of all values: the log-probability of the whole sequence.
   *
   * @return the sum
   */
  public double sum() {
    double s = 0;
    for (double v : values) {
      s += v;
    }
    return s;
  }

  /**
   * Returns a copy of the values.
   *
   * @return a new array
   */
  public double[] toArray() {
    return values.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof LogProbs other && Arrays.equals(values, other.values);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(values);
  }

  @Override
  public String toString() {
    return Arrays.toString(values);
  }
}
