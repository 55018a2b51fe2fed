package dev.jbond.bon;

import dev.jbond.internal.Checks;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Objects;
import java.util.random.RandomGenerator;
import java.util.stream.IntStream;

/**
 * The exact Best-of-N distribution of one finite base distribution, with its reward quantiles, KL
 * divergence and samplers.
 *
 * <p><b>Symbols.</b> The base distribution {@code pi} (the reference policy {@code pi_ref}, or an
 * anchor) puts probability {@code pi(y)} on each of {@code K} outcomes {@code y}, and {@code r(y)}
 * is the outcome's finite reward. Distinct outcomes may share a reward. For {@code y' ~ pi}:
 *
 * <pre>{@code
 * p_<(y)  = P[ r(y') <  r(y) ]      (pLess)
 * p_<=(y) = P[ r(y') <= r(y) ]      (pLessOrEqual)
 * }</pre>
 *
 * <p><b>Theorem 1</b> (Sessa et al., "BOND: Aligning LLMs with Best-of-N Distillation", 2024, arXiv
 * 2407.14622, Theorem 1). Best-of-N draws {@code N} outcomes from {@code pi} independently and
 * returns the one with the highest reward. Under a strict order of the outcomes,
 *
 * <pre>{@code
 * pi_BoN(y) = pi(y) * p_<=(y)^(N-1) * C_N(y),
 * C_N(y)    = sum_{i=1..N} (p_<(y) / p_<=(y))^(i-1) = (1 - rho^N) / (1 - rho),  rho = p_< / p_<=
 * }</pre>
 *
 * <p>The correction factor {@code C_N} accounts for the same outcome being drawn several times
 * ("collisions"); it lies in {@code [1, N]}, equals 1 for the worst outcome (so {@code pi_BoN(y-) =
 * pi(y-)^N}) and tends to {@code N} when single outcomes are improbable. See {@link
 * #correctionFactor(double, double, int)}.
 *
 * <p><b>Ties.</b> Theorem 1 assumes a strict order. {@link TieBreak} says how draws with equal
 * reward are ranked: {@link TieBreak#FIRST_DRAWN} (the default; the first drawn of the tied best
 * draws wins, which turns out to be Theorem 1 with {@code p_<} and {@code p_<=} taken by reward
 * value, as above) or {@link TieBreak#INDEX_ORDER} (a larger index wins; Theorem 1 with quantiles
 * taken in that strict order). Both give the same distribution of the winning reward.
 *
 * <p><b>Numerics.</b> {@code C_N} is computed as {@code -expm1(N log1p(-d)) / d} with {@code d = 1
 * - rho = pi(group) / p_<=} taken from the group's own mass rather than from a difference, which
 * neither cancels nor overflows for {@code N} in the thousands. Probabilities are the direct
 * product {@code pi(y) * pow(p_<=, N-1) * C_N}; log-likelihoods are the sum {@code log pi(y) +
 * (N-1) log p_<=(y) + log C_N(y)}, which stays finite where the probability underflows. Outcomes
 * with {@code pi(y) = 0} have {@code pi_BoN(y) = 0}. The given probabilities must sum to 1 within
 * {@value #PROBABILITY_SUM_TOLERANCE}; they are divided by their sum so that the best reward's
 * {@code p_<=} is exactly 1.
 *
 * <p><b>Other bases.</b> Best-of-N of a different base distribution (for example the anchor of
 * iterative BOND) is the same computation: build a new instance with {@code BestOfN.of(anchorProbs,
 * rewards)}. Best-of-n applied {@code M} times in a row equals Best-of-{@code n^M}.
 *
 * <p>Instances are immutable and thread-safe; every array passed in or returned is copied.
 */
public final class BestOfN {
  /** How far from 1 the sum of a probability vector may be: {@value}. */
  public static final double PROBABILITY_SUM_TOLERANCE = 1e-9;

  private final double[] probs;
  private final double[] rewards;
  // Quantiles by reward value (the specification's definitions; also FIRST_DRAWN's group values).
  private final double[] pLess;
  private final double[] pLessOrEqual;
  // pi(G) of the outcome's reward group.
  private final double[] groupMass;
  // Quantiles in the strict order (reward, then index) of INDEX_ORDER.
  private final double[] rankLessOrEqual;
  // Cumulative probabilities in index order, the last one exactly 1, for sampling.
  private final double[] cumulative;
  private final int distinctRewards;

  private BestOfN(double[] rawProbs, double[] rewards) {
    int size = rawProbs.length;
    this.rewards = rewards;
    Integer[] order = IntStream.range(0, size).boxed().toArray(Integer[]::new);
    Arrays.sort(
        order,
        Comparator.<Integer>comparingDouble(k -> rewards[k]).thenComparingInt(Integer::intValue));
    double total = 0;
    for (int k : order) {
      total += rawProbs[k];
    }
    probs = new double[size];
    for (int k = 0; k < size; k++) {
      probs[k] = rawProbs[k] / total;
    }
    pLess = new double[size];
    pLessOrEqual = new double[size];
    groupMass = new double[size];
    rankLessOrEqual = new double[size];
    double prefix = 0;
    int groups = 0;
    int start = 0;
    while (start < size) {
      int end = start;
      double groupRaw = 0;
      double before = prefix;
      while (end < size && rewards[order[end]] == rewards[order[start]]) {
        int k = order[end];
        prefix += rawProbs[k];
        groupRaw += rawProbs[k];
        rankLessOrEqual[k] = prefix / total;
        end++;
      }
      for (int j = start; j < end; j++) {
        int k = order[j];
        pLess[k] = before / total;
        pLessOrEqual[k] = prefix / total;
        groupMass[k] = groupRaw / total;
      }
      groups++;
      start = end;
    }
    distinctRewards = groups;
    cumulative = new double[size];
    double running = 0;
    for (int k = 0; k < size; k++) {
      running += rawProbs[k];
      cumulative[k] = running;
    }
    for (int k = 0; k < size; k++) {
      cumulative[k] /= running;
    }
  }

  /**
   * Returns the Best-of-N model of the finite distribution {@code probs} with rewards {@code
   * rewards}; both arrays are copied.
   *
   * @param probs the base probabilities {@code pi(y)}, one per outcome, each finite and {@code >=
   *     0}, summing to 1 within {@value #PROBABILITY_SUM_TOLERANCE}
   * @param rewards the reward {@code r(y)} of each outcome, each finite; equal rewards are allowed
   * @return the model
   * @throws NullPointerException when an array is null
   * @throws IllegalArgumentException when the arrays are empty or differ in length, a probability
   *     is negative, NaN or infinite, the probabilities do not sum to 1, or a reward is NaN or
   *     infinite
   */
  public static BestOfN of(double[] probs, double[] rewards) {
    Objects.requireNonNull(probs, "probs");
    Objects.requireNonNull(rewards, "rewards");
    checkDistribution(probs, "probs");
    Checks.checkSameLength(probs.length, rewards.length, "rewards (one per probability)");
    for (int k = 0; k < rewards.length; k++) {
      Checks.checkArgument(
          Double.isFinite(rewards[k]), "Expected rewards[%d] finite, found %s", k, rewards[k]);
    }
    double[] copy = new double[rewards.length];
    for (int k = 0; k < copy.length; k++) {
      copy[k] = rewards[k] + 0.0; // -0.0 becomes 0.0, so sorting agrees with ==
    }
    return new BestOfN(probs.clone(), copy);
  }

  /**
   * Returns the number of outcomes {@code K}.
   *
   * @return the number of outcomes
   */
  public int size() {
    return probs.length;
  }

  /**
   * Returns a copy of the base probabilities, divided by their sum (which differs from 1 by at most
   * {@value #PROBABILITY_SUM_TOLERANCE}).
   *
   * @return a new array of {@code pi(y)}
   */
  public double[] probabilities() {
    return probs.clone();
  }

  /**
   * Returns a copy of the rewards.
   *
   * @return a new array of {@code r(y)}
   */
  public double[] rewards() {
    return rewards.clone();
  }

  /**
   * Returns {@code p_<(y) = P[r(y') < r(y)]} for each outcome, with {@code y'} drawn from the base
   * distribution and ties decided by reward value.
   *
   * @return a new array, one value in {@code [0, 1]} per outcome
   */
  public double[] pLess() {
    return pLess.clone();
  }

  /**
   * Returns {@code p_<=(y) = P[r(y') <= r(y)]} for each outcome, with {@code y'} drawn from the
   * base distribution and ties decided by reward value.
   *
   * @return a new array, one value in {@code [0, 1]} per outcome; 1 for the best reward
   */
  public double[] pLessOrEqual() {
    return pLessOrEqual.clone();
  }

  /**
   * Returns the collision correction factor of Theorem 1, {@code C_N = sum_{i=1..N} (p_< /
   * p_<=)^(i-1)}.
   *
   * <p>{@code C_N} is 1 when {@code p_< = 0} (the worst outcome; also the convention for {@code
   * p_<= = 0}), {@code N} when {@code p_< = p_<=}, and always in {@code [1, N]}. It is computed as
   * {@code -expm1(N log1p(-d)) / d} with {@code d = (p_<= - p_<) / p_<=}, which stays accurate for
   * large {@code N}.
   *
   * @param pLess {@code p_<}, in {@code [0, pLessOrEqual]}
   * @param pLessOrEqual {@code p_<=}, in {@code [0, 1]}
   * @param n the number of draws {@code N}, at least 1
   * @return {@code C_N}, in {@code [1, N]}
   * @throws IllegalArgumentException when {@code n < 1} or the probabilities are out of range
   */
  public static double correctionFactor(double pLess, double pLessOrEqual, int n) {
    Checks.checkAtLeast(n, 1, "N");
    Checks.checkInRange(pLessOrEqual, 0, 1, "pLessOrEqual");
    Checks.checkArgument(
        pLess >= 0 && pLess <= pLessOrEqual,
        "Expected pLess in [0, pLessOrEqual = %s], found %s",
        pLessOrEqual,
        pLess);
    if (pLess == 0) {
      return 1;
    }
    return correction((pLessOrEqual - pLess) / pLessOrEqual, n);
  }

  /**
   * Returns the exact Best-of-N distribution with the default tie rule {@link
   * TieBreak#FIRST_DRAWN}.
   *
   * @param n the number of draws {@code N}, at least 1
   * @return a new array of {@code pi_BoN(y)}, summing to 1
   * @throws IllegalArgumentException when {@code n < 1}
   */
  public double[] distribution(int n) {
    return distribution(n, TieBreak.FIRST_DRAWN);
  }

  /**
   * Returns the exact Best-of-N distribution {@code pi_BoN(y)} under the given tie rule (class
   * description, Theorem 1). {@code N = 1} returns the base distribution.
   *
   * @param n the number of draws {@code N}, at least 1
   * @param tieBreak how draws with equal reward are ranked
   * @return a new array of {@code pi_BoN(y)}, summing to 1; entries that underflow are 0
   * @throws IllegalArgumentException when {@code n < 1}
   * @throws NullPointerException when {@code tieBreak} is null
   */
  public double[] distribution(int n, TieBreak tieBreak) {
    double[] result = logLikelihood(n, tieBreak);
    for (int k = 0; k < result.length; k++) {
      result[k] = probability(k, n, tieBreak, result[k]);
    }
    return result;
  }

  /**
   * Returns {@code log pi_BoN(y)} for each outcome under the given tie rule, computed in log space
   * so that it stays finite where {@code pi_BoN(y)} itself underflows.
   *
   * @param n the number of draws {@code N}, at least 1
   * @param tieBreak how draws with equal reward are ranked
   * @return a new array of natural-log probabilities; {@code -Infinity} where {@code pi(y) = 0}
   * @throws IllegalArgumentException when {@code n < 1}
   * @throws NullPointerException when {@code tieBreak} is null
   */
  public double[] logLikelihood(int n, TieBreak tieBreak) {
    double[] ratio = logRatio(n, tieBreak);
    for (int k = 0; k < ratio.length; k++) {
      ratio[k] = probs[k] > 0 ? Math.log(probs[k]) + ratio[k] : Double.NEGATIVE_INFINITY;
    }
    return ratio;
  }

  /**
   * Returns the exact {@code KL(pi_BoN || pi) = sum_y pi_BoN(y) log(pi_BoN(y) / pi(y))} in nats.
   *
   * <p>It is at most {@code log N - (N-1)/N} (Beirami et al., "Theoretical guarantees on the
   * Best-of-n alignment policy", 2024), with equality in the continuous limit; see {@link
   * ContinuousBestOfN#kl(int)}.
   *
   * @param n the number of draws {@code N}, at least 1
   * @param tieBreak how draws with equal reward are ranked
   * @return the divergence, {@code >= 0}; 0 for {@code N = 1}
   * @throws IllegalArgumentException when {@code n < 1}
   * @throws NullPointerException when {@code tieBreak} is null
   */
  public double klFromReference(int n, TieBreak tieBreak) {
    double[] ratio = logRatio(n, tieBreak);
    double kl = 0;
    for (int k = 0; k < probs.length; k++) {
      if (probs[k] > 0) {
        kl += probability(k, n, tieBreak, Math.log(probs[k]) + ratio[k]) * ratio[k];
      }
    }
    return Math.max(0, kl);
  }

  /**
   * Returns the mean mid-quantile {@code E_{y ~ policy}[(p_<(y) + p_<=(y)) / 2]} of a policy's
   * samples under this base distribution: the policy's win rate against one base draw, ties
   * counting one half.
   *
   * <p>It is exactly 0.5 for {@code policy = pi}, and approaches {@code N/(N+1)} ({@link
   * ContinuousBestOfN#meanQuantile(int)}) for the Best-of-N distribution when rewards are distinct
   * and individual outcomes improbable.
   *
   * @param policy a distribution over the same outcomes
   * @return the mean mid-quantile, in {@code [0, 1]}
   * @throws NullPointerException when {@code policy} is null
   * @throws IllegalArgumentException when {@code policy} has the wrong length or is not a
   *     probability distribution
   */
  public double meanQuantile(double[] policy) {
    checkPolicy(policy);
    double mean = 0;
    for (int k = 0; k < probs.length; k++) {
      mean += policy[k] * 0.5 * (pLess[k] + pLessOrEqual[k]);
    }
    return mean;
  }

  /**
   * Returns the mean log-quantile {@code E_{y ~ policy}[log p_<=(y)]} under this base distribution,
   * the quantity Best-of-N maximises (BOND's reward {@code r_BOND = log p_<=}). In the continuous
   * limit the Best-of-N distribution reaches {@code -1/N} ({@link
   * ContinuousBestOfN#meanLogQuantile(int)}).
   *
   * @param policy a distribution over the same outcomes
   * @return the mean log-quantile, {@code <= 0}; {@code -Infinity} when the policy puts mass where
   *     {@code p_<= = 0}
   * @throws NullPointerException when {@code policy} is null
   * @throws IllegalArgumentException when {@code policy} has the wrong length or is not a
   *     probability distribution
   */
  public double meanLogQuantile(double[] policy) {
    checkPolicy(policy);
    double mean = 0;
    for (int k = 0; k < probs.length; k++) {
      if (policy[k] > 0) {
        mean += policy[k] * Math.log(pLessOrEqual[k]);
      }
    }
    return mean;
  }

  /**
   * Draws one outcome from the base distribution.
   *
   * @param rng the source of randomness
   * @return an outcome index with {@code pi(index) > 0}
   * @throws NullPointerException when {@code rng} is null
   */
  public int sample(RandomGenerator rng) {
    Objects.requireNonNull(rng, "rng");
    double u = rng.nextDouble();
    int lo = 0;
    int hi = cumulative.length - 1;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (cumulative[mid] > u) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    return lo;
  }

  /**
   * Draws {@code N} outcomes from the base distribution and returns the winner: the highest reward,
   * and among equal highest rewards the earliest draw ({@link TieBreak#FIRST_DRAWN}) or the largest
   * index ({@link TieBreak#INDEX_ORDER}). Its distribution is {@link #distribution(int, TieBreak)}.
   *
   * @param n the number of draws {@code N}, at least 1
   * @param rng the source of randomness
   * @param tieBreak how draws with equal reward are ranked
   * @return the winning outcome's index
   * @throws IllegalArgumentException when {@code n < 1}
   * @throws NullPointerException when {@code rng} or {@code tieBreak} is null
   */
  public int sampleBestOfN(int n, RandomGenerator rng, TieBreak tieBreak) {
    Checks.checkAtLeast(n, 1, "N");
    Objects.requireNonNull(rng, "rng");
    Objects.requireNonNull(tieBreak, "tieBreak");
    int best = sample(rng);
    for (int i = 1; i < n; i++) {
      int draw = sample(rng);
      if (rewards[draw] > rewards[best]
          || (tieBreak == TieBreak.INDEX_ORDER && rewards[draw] == rewards[best] && draw > best)) {
        best = draw;
      }
    }
    return best;
  }

  /**
   * Returns {@code KL(p || q) = sum_k p_k log(p_k / q_k)} in nats for two distributions over the
   * same finite outcomes, with {@code 0 log 0 = 0}.
   *
   * @param p the first distribution
   * @param q the second distribution
   * @return the divergence, {@code >= 0}; {@code +Infinity} when some {@code p_k > 0} has {@code
   *     q_k = 0}
   * @throws NullPointerException when an array is null
   * @throws IllegalArgumentException when the arrays are empty or differ in length, or are not
   *     probability distributions
   */
  public static double kl(double[] p, double[] q) {
    checkPair(p, q);
    double kl = 0;
    for (int k = 0; k < p.length; k++) {
      if (p[k] > 0) {
        if (q[k] == 0) {
          return Double.POSITIVE_INFINITY;
        }
        kl += p[k] * (Math.log(p[k]) - Math.log(q[k]));
      }
    }
    return Math.max(0, kl);
  }

  /**
   * Returns the total-variation distance {@code (1/2) sum_k |p_k - q_k|} of two distributions over
   * the same finite outcomes.
   *
   * @param p the first distribution
   * @param q the second distribution
   * @return the distance, in {@code [0, 1]}
   * @throws NullPointerException when an array is null
   * @throws IllegalArgumentException when the arrays are empty or differ in length, or are not
   *     probability distributions
   */
  public static double totalVariation(double[] p, double[] q) {
    checkPair(p, q);
    double sum = 0;
    for (int k = 0; k < p.length; k++) {
      sum += Math.abs(p[k] - q[k]);
    }
    return 0.5 * sum;
  }

  @Override
  public String toString() {
    return "BestOfN[size="
        + probs.length
        + ", distinctRewards="
        + distinctRewards
        + ", minReward="
        + Arrays.stream(rewards).min().orElseThrow()
        + ", maxReward="
        + Arrays.stream(rewards).max().orElseThrow()
        + "]";
  }

  /** Returns {@code log(pi_BoN(y) / pi(y))} per outcome; meaningless where {@code pi(y) = 0}. */
  private double[] logRatio(int n, TieBreak tieBreak) {
    Checks.checkAtLeast(n, 1, "N");
    Objects.requireNonNull(tieBreak, "tieBreak");
    double[] ratio = new double[probs.length];
    for (int k = 0; k < probs.length; k++) {
      if (probs[k] > 0 && n > 1) {
        double lessOrEqual = lessOrEqual(k, tieBreak);
        ratio[k] =
            (n - 1) * Math.log(lessOrEqual) + Math.log(correction(d(k, tieBreak, lessOrEqual), n));
      }
    }
    return ratio;
  }

  /**
   * Returns {@code pi_BoN(y)} for outcome {@code k}: the direct product {@code pi(y) p_<=^(N-1)
   * C_N}, which {@link Math#pow} keeps accurate to a few ulps, unless it underflows the normal
   * range, where {@code exp(logLikelihood)} is used instead.
   */
  private double probability(int k, int n, TieBreak tieBreak, double logLikelihood) {
    if (probs[k] == 0 || n == 1) {
      return probs[k];
    }
    double lessOrEqual = lessOrEqual(k, tieBreak);
    double direct =
        probs[k] * Math.pow(lessOrEqual, n - 1) * correction(d(k, tieBreak, lessOrEqual), n);
    return direct >= Double.MIN_NORMAL ? direct : Math.exp(logLikelihood);
  }

  /** Returns {@code p_<=} of outcome {@code k} in the ranking of the tie rule. */
  private double lessOrEqual(int k, TieBreak tieBreak) {
    return tieBreak == TieBreak.FIRST_DRAWN ? pLessOrEqual[k] : rankLessOrEqual[k];
  }

  /** Returns {@code d = 1 - p_< / p_<=} of outcome {@code k}, from the mass of its rank. */
  private double d(int k, TieBreak tieBreak, double lessOrEqual) {
    double mass = tieBreak == TieBreak.FIRST_DRAWN ? groupMass[k] : probs[k];
    return Math.min(1, mass / lessOrEqual);
  }

  /**
   * Returns {@code C_N} for {@code d = 1 - rho = (p_<= - p_<) / p_<=} in {@code [0, 1]}: {@code
   * sum_{i=0..N-1} (1-d)^i = -expm1(N log1p(-d)) / d}, clamped to {@code [1, N]} against rounding.
   */
  private static double correction(double d, int n) {
    if (n == 1 || d >= 1) {
      return 1;
    }
    if (d <= 0) {
      return n;
    }
    double value = -Math.expm1(n * Math.log1p(-d)) / d;
    return Math.min(n, Math.max(1, value));
  }

  private void checkPolicy(double[] policy) {
    Objects.requireNonNull(policy, "policy");
    Checks.checkSameLength(probs.length, policy.length, "policy probabilities (one per outcome)");
    checkDistribution(policy, "policy");
  }

  private static void checkPair(double[] p, double[] q) {
    Objects.requireNonNull(p, "p");
    Objects.requireNonNull(q, "q");
    checkDistribution(p, "p");
    Checks.checkSameLength(p.length, q.length, "entries in q (one per entry of p)");
    checkDistribution(q, "q");
  }

  private static void checkDistribution(double[] values, String name) {
    Checks.checkArgument(values.length > 0, "Expected at least one entry in %s, found none", name);
    double sum = 0;
    for (int k = 0; k < values.length; k++) {
      Checks.checkArgument(
          values[k] >= 0 && values[k] < Double.POSITIVE_INFINITY,
          "Expected %s[%d] finite and >= 0, found %s",
          name,
          k,
          values[k]);
      sum += values[k];
    }
    Checks.checkArgument(
        Math.abs(sum - 1) <= PROBABILITY_SUM_TOLERANCE,
        "Expected %s to sum to 1 (within %s), found %s",
        name,
        PROBABILITY_SUM_TOLERANCE,
        sum);
  }
}
