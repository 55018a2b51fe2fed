package dev.jbond.reference;

import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.bon.BestOfN;
import dev.jbond.internal.Checks;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A finite alignment problem: P prompts, and for prompt i a set of {@code K_i} possible completions
 * (completion {@code k} is the single token {@code k}), with reference-policy logits and rewards.
 * Prompt i has the id {@code "p<i>"} and the single token {@code i}. Immutable.
 */
public final class TabularProblem {
  private final List<Prompt> prompts;
  private final double[][] referenceLogits;
  private final double[][] rewards;
  private final int[] offsets;
  private final int parameterCount;
  private final Map<String, Integer> indexById;

  private TabularProblem(double[][] referenceLogits, double[][] rewards) {
    Checks.checkArgument(
        referenceLogits.length > 0,
        "Expected at least one prompt, found %d",
        referenceLogits.length);
    Checks.checkSameLength(referenceLogits.length, rewards.length, "reward rows (one per prompt)");
    this.referenceLogits = new double[referenceLogits.length][];
    this.rewards = new double[rewards.length][];
    this.offsets = new int[referenceLogits.length + 1];
    List<Prompt> ps = new ArrayList<>(referenceLogits.length);
    Map<String, Integer> ids = new HashMap<>();
    for (int i = 0; i < referenceLogits.length; i++) {
      Checks.checkArgument(
          referenceLogits[i].length >= 1,
          "Expected at least one completion for prompt %d, found 0",
          i);
      Checks.checkSameLength(
          referenceLogits[i].length, rewards[i].length, "rewards for prompt " + i);
      for (int k = 0; k < rewards[i].length; k++) {
        Checks.checkFinite(rewards[i][k], "reward of completion " + k + " of prompt " + i);
        Checks.checkFinite(referenceLogits[i][k], "logit of completion " + k + " of prompt " + i);
      }
      this.referenceLogits[i] = referenceLogits[i].clone();
      this.rewards[i] = rewards[i].clone();
      offsets[i + 1] = offsets[i] + referenceLogits[i].length;
      Prompt p = new Prompt("p" + i, TokenSequence.of(i));
      ps.add(p);
      ids.put(p.id(), i);
    }
    this.prompts = List.copyOf(ps);
    this.parameterCount = offsets[referenceLogits.length];
    this.indexById = Map.copyOf(ids);
  }

  /**
   * Creates a problem from explicit logits and rewards (copied).
   *
   * @param referenceLogits per prompt, the reference policy's logits over its completions
   * @param rewards per prompt, the reward of each completion, finite
   * @return the problem
   * @throws IllegalArgumentException when shapes disagree or a value is not finite
   */
  public static TabularProblem of(double[][] referenceLogits, double[][] rewards) {
    return new TabularProblem(referenceLogits, rewards);
  }

  /**
   * Creates a random problem: reference logits {@code ~ N(0, logitScale^2)}, rewards uniform in
   * {@code [0, 1)}, or drawn from {@code rewardLevels} equally spaced values (so that ties occur)
   * when {@code rewardLevels > 0}.
   *
   * @param prompts number of prompts, {@code >= 1}
   * @param completions completions per prompt, {@code >= 1}
   * @param logitScale standard deviation of the reference logits, {@code >= 0}
   * @param rewardLevels 0 for continuous rewards, else the number of distinct reward values
   * @param seed the seed
   * @return the problem
   */
  public static TabularProblem random(
      int prompts, int completions, double logitScale, int rewardLevels, long seed) {
    Checks.checkAtLeast(prompts, 1, "prompts");
    Checks.checkAtLeast(completions, 1, "completions per prompt");
    Checks.checkNonNegative(logitScale, "logit scale");
    Checks.checkAtLeast(rewardLevels, 0, "reward levels");
    SplittableRandom rng = new SplittableRandom(seed);
    double[][] logits = new double[prompts][completions];
    double[][] rewards = new double[prompts][completions];
    for (int i = 0; i < prompts; i++) {
      for (int k = 0; k < completions; k++) {
        logits[i][k] = logitScale * gaussian(rng);
        rewards[i][k] =
            rewardLevels > 0
                ? (double) rng.nextInt(rewardLevels) / Math.max(1, rewardLevels - 1)
                : rng.nextDouble();
      }
    }
    return new TabularProblem(logits, rewards);
  }

  private static double gaussian(SplittableRandom rng) {
    double u = 1 - rng.nextDouble();
    double v = rng.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /**
   * Returns the prompts, prompt i at index i.
   *
   * @return the prompts
   */
  public List<Prompt> prompts() {
    return prompts;
  }

  /**
   * Returns the number of prompts.
   *
   * @return P
   */
  public int size() {
    return prompts.size();
  }

  /**
   * Returns the number of completions of prompt {@code i}.
   *
   * @param i the prompt index
   * @return {@code K_i}
   */
  public int completions(int i) {
    return rewards[i].length;
  }

  /**
   * Returns the offset of prompt {@code i}'s logits in a flat parameter vector.
   *
   * @param i the prompt index
   * @return the offset
   */
  public int offset(int i) {
    return offsets[i];
  }

  /**
   * Returns the total number of logits (parameters).
   *
   * @return {@code sum_i K_i}
   */
  public int parameterCount() {
    return parameterCount;
  }

  /**
   * Returns the index of the prompt with {@code id}.
   *
   * @param id a prompt id
   * @return the index
   * @throws IllegalArgumentException when the id is unknown
   */
  public int indexOf(String id) {
    Integer i = indexById.get(id);
    Checks.checkArgument(
        i != null, "Expected a prompt id of this problem (p0..p%d), found '%s'", size() - 1, id);
    return i;
  }

  /**
   * Returns the rewards of prompt {@code i}'s completions (a copy).
   *
   * @param i the prompt index
   * @return the rewards
   */
  public double[] rewards(int i) {
    return rewards[i].clone();
  }

  /**
   * Returns the reward of one completion.
   *
   * @param i the prompt index
   * @param completion the completion token
   * @return the reward
   * @throws IllegalArgumentException when the completion is out of range
   */
  public double reward(int i, int completion) {
    Checks.checkArgument(
        completion >= 0 && completion < rewards[i].length,
        "Expected a completion token in [0, %d) for prompt 'p%d', found %d",
        rewards[i].length,
        i,
        completion);
    return rewards[i][completion];
  }

  /**
   * Returns the reference logits as one flat parameter vector (a copy).
   *
   * @return the logits
   */
  public double[] referenceParameters() {
    double[] flat = new double[parameterCount];
    for (int i = 0; i < size(); i++) {
      System.arraycopy(referenceLogits[i], 0, flat, offsets[i], referenceLogits[i].length);
    }
    return flat;
  }

  /**
   * Returns the reference policy's probabilities for prompt {@code i}.
   *
   * @param i the prompt index
   * @return the probabilities
   */
  public double[] referenceProbabilities(int i) {
    return Softmax.probabilities(referenceLogits[i], 0, referenceLogits[i].length);
  }

  /**
   * Returns the exact Best-of-N machinery of prompt {@code i} against the reference policy.
   *
   * @param i the prompt index
   * @return Best-of-N over the reference
   */
  public BestOfN referenceBestOfN(int i) {
    return BestOfN.of(referenceProbabilities(i), rewards[i]);
  }
}
