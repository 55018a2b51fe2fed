package dev.jbond.models.generate;

/**
 * Pearson's chi-square goodness-of-fit test of observed token counts against expected
 * probabilities. Tokens whose expected count is below 5 are pooled into one bin (merged into the
 * smallest other bin when the pool itself expects fewer than 5); tokens of probability 0 are left
 * out (callers check that they never occur).
 */
final class ChiSquare {
  private ChiSquare() {}

  /**
   * The test's outcome.
   *
   * @param statistic sum over bins of {@code (observed - expected)^2 / expected}
   * @param degreesOfFreedom bins minus 1
   * @param pValue the probability of a statistic at least this large under the null hypothesis
   */
  record Result(double statistic, int degreesOfFreedom, double pValue) {
    @Override
    public String toString() {
      return String.format("chi2=%.2f df=%d p=%.3f", statistic, degreesOfFreedom, pValue);
    }
  }

  static Result test(long[] observed, double[] probabilities) {
    long n = 0;
    for (long count : observed) {
      n += count;
    }
    double pooledExpected = 0;
    long pooledObserved = 0;
    double statistic = 0;
    int bins = 0;
    double smallestExpected = Double.POSITIVE_INFINITY;
    long smallestObserved = 0;
    for (int v = 0; v < observed.length; v++) {
      double expected = n * probabilities[v];
      if (probabilities[v] == 0) {
        continue;
      }
      if (expected < 5) {
        pooledExpected += expected;
        pooledObserved += observed[v];
      } else {
        statistic += square(observed[v] - expected) / expected;
        bins++;
        if (expected < smallestExpected) {
          smallestExpected = expected;
          smallestObserved = observed[v];
        }
      }
    }
    if (pooledExpected >= 5) {
      statistic += square(pooledObserved - pooledExpected) / pooledExpected;
      bins++;
    } else if (pooledExpected > 0) {
      statistic -= square(smallestObserved - smallestExpected) / smallestExpected;
      double expected = smallestExpected + pooledExpected;
      statistic += square(smallestObserved + pooledObserved - expected) / expected;
    }
    int df = bins - 1;
    return new Result(statistic, df, upperRegularizedGamma(df / 2.0, statistic / 2));
  }

  private static double square(double x) {
    return x * x;
  }

  /** Q(a, x) = Gamma(a, x) / Gamma(a), by series or continued fraction (Numerical Recipes 6.2). */
  static double upperRegularizedGamma(double a, double x) {
    if (x <= 0) {
      return 1;
    }
    double logPrefix = -x + a * Math.log(x) - logGamma(a);
    if (x < a + 1) {
      double term = 1 / a;
      double sum = term;
      for (int n = 1; n < 10_000 && Math.abs(term) > Math.abs(sum) * 1e-15; n++) {
        term *= x / (a + n);
        sum += term;
      }
      return 1 - sum * Math.exp(logPrefix);
    }
    double tiny = 1e-300;
    double b = x + 1 - a;
    double c = 1 / tiny;
    double d = 1 / b;
    double h = d;
    for (int i = 1; i < 10_000; i++) {
      double an = -i * (i - a);
      b += 2;
      d = an * d + b;
      d = Math.abs(d) < tiny ? tiny : d;
      c = b + an / c;
      c = Math.abs(c) < tiny ? tiny : c;
      d = 1 / d;
      double delta = d * c;
      h *= delta;
      if (Math.abs(delta - 1) < 1e-15) {
        break;
      }
    }
    return Math.exp(logPrefix) * h;
  }

  /** Lanczos approximation (g = 7, n = 9), accurate to about 1e-15 for a > 0. */
  static double logGamma(double a) {
    double[] c = {
      0.99999999999980993,
      676.5203681218851,
      -1259.1392167224028,
      771.32342877765313,
      -176.61502916214059,
      12.507343278686905,
      -0.13857109526572012,
      9.9843695780195716e-6,
      1.5056327351493116e-7
    };
    if (a < 0.5) {
      return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * a))) - logGamma(1 - a);
    }
    double x = c[0];
    double shifted = a - 1;
    for (int i = 1; i < 9; i++) {
      x += c[i] / (shifted + i);
    }
    double t = shifted + 7.5;
    return 0.5 * Math.log(2 * Math.PI) + (shifted + 0.5) * Math.log(t) - t + Math.log(x);
  }
}
