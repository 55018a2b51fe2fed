package dev.jbond.orchestrator.eval;

import dev.jbond.Generation;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.internal.Json;
import dev.jbond.spi.PolicyLearner;
import dev.jbond.spi.PolicySampler;
import dev.jbond.spi.RewardModel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiConsumer;

/**
 * Evaluates a policy against the reference on held-out prompts (definitions in {@link EvalResult}):
 * each evaluation draws m policy samples per prompt and compares their rewards with k reference
 * samples per prompt that were drawn once, since the reference never changes.
 *
 * <p>Lifecycle: create with the reference samples ({@link #referenceSamples}), then {@link
 * #evaluate} at each evaluation step. Not thread-safe; the components are the caller's.
 */
public final class Evaluator {
  private final List<Prompt> prompts;
  private final ReferenceSamples reference;
  private final PolicySampler policySampler;
  private final RewardModel reward;
  private final int samplesPerPrompt;
  private final long seed;
  private volatile SampleSink sampleSink = (step, samples, rewards) -> {};

  /** Receives each evaluation's samples and their rewards. */
  @FunctionalInterface
  public interface SampleSink {
    /**
     * Takes one evaluation's samples.
     *
     * @param step the evaluated step
     * @param samples the policy's samples, prompt-major
     * @param rewards their rewards, in order
     */
    void accept(long step, List<Generation> samples, double[] rewards);
  }

  /**
   * Sets what receives each evaluation's samples (for example a file of samples with their text).
   * Default: nothing.
   *
   * @param sink the receiver
   */
  public void onSamples(SampleSink sink) {
    this.sampleSink = Objects.requireNonNull(sink, "sink");
  }

  /**
   * Creates an evaluator.
   *
   * @param reference the reference samples of the held-out prompts, with their rewards
   * @param policySampler draws the policy's samples (role {@link PolicyRole#POLICY})
   * @param reward scores samples
   * @param samplesPerPrompt m, policy samples per prompt, {@code >= 1}
   * @param seed the run's seed; each evaluation's sampling seed derives from it and the step
   */
  public Evaluator(
      ReferenceSamples reference,
      PolicySampler policySampler,
      RewardModel reward,
      int samplesPerPrompt,
      long seed) {
    this.reference = Objects.requireNonNull(reference, "reference");
    this.prompts = reference.prompts();
    this.policySampler = Objects.requireNonNull(policySampler, "policySampler");
    this.reward = Objects.requireNonNull(reward, "reward");
    if (samplesPerPrompt < 1) {
      throw new IllegalArgumentException(
          "Expected samples per prompt >= 1, found " + samplesPerPrompt);
    }
    this.samplesPerPrompt = samplesPerPrompt;
    this.seed = seed;
  }

  /**
   * Evaluates the served policy at a step: samples, scores, and log-probabilities under the
   * learner's policy and reference weights.
   *
   * @param step the learner's step count (it also seeds the samples)
   * @param learner holds the policy's current weights and the reference's
   * @return the evaluation
   */
  public EvalResult evaluate(long step, PolicyLearner learner) {
    List<Generation> samples =
        policySampler.sample(prompts, samplesPerPrompt, PolicyRole.POLICY, seed(seed, step));
    double[] rewards = reward.score(samples);
    double[] logPolicy = learner.logProbs(PolicyRole.POLICY, samples);
    double[] logReference = learner.logProbs(PolicyRole.REFERENCE, samples);
    double kl = 0;
    for (int i = 0; i < samples.size(); i++) {
      kl += logPolicy[i] - logReference[i];
    }
    kl /= samples.size();
    double q = quantile(rewards, samplesPerPrompt, reference.rewards());
    double n = EvalResult.bestOfN(q);
    sampleSink.accept(step, samples, rewards);
    return new EvalResult(
        step,
        mean(rewards),
        reference.meanReward(),
        q,
        kl,
        n,
        EvalResult.frontierKl(n),
        prompts.size(),
        samplesPerPrompt);
  }

  /**
   * Returns the mean over prompts and samples of the fraction of the prompt's reference rewards a
   * sample beats, ties counting one half.
   *
   * @param rewards the samples' rewards, {@code perPrompt} per prompt in prompt order
   * @param perPrompt samples per prompt
   * @param referenceRewards per prompt, the reference samples' rewards
   * @return the mean quantile in [0, 1]
   */
  public static double quantile(double[] rewards, int perPrompt, List<double[]> referenceRewards) {
    if (rewards.length != perPrompt * referenceRewards.size()) {
      throw new IllegalArgumentException(
          "Expected "
              + perPrompt * referenceRewards.size()
              + " rewards ("
              + referenceRewards.size()
              + " prompts x "
              + perPrompt
              + "), found "
              + rewards.length);
    }
    double sum = 0;
    for (int i = 0; i < rewards.length; i++) {
      sum += beaten(rewards[i], referenceRewards.get(i / perPrompt));
    }
    return sum / rewards.length;
  }

  /** The fraction of {@code others} that {@code r} beats, ties counting one half. */
  static double beaten(double r, double[] others) {
    double wins = 0;
    for (double o : others) {
      wins += r > o ? 1 : r == o ? 0.5 : 0;
    }
    return wins / others.length;
  }

  /**
   * Returns the mean of some values.
   *
   * @param values the values, not empty
   * @return their mean
   */
  public static double mean(double[] values) {
    double s = 0;
    for (double v : values) {
      s += v;
    }
    return s / values.length;
  }

  /** A seed for the evaluation samples of a step, independent of the training samples' seeds. */
  static long seed(long runSeed, long step) {
    long z = runSeed ^ 0x5DEECE66DL;
    z += 0x9E3779B97F4A7C15L * (step + 1) + 0x632BE59BD9B4E019L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /**
   * The reference samples of the held-out prompts: drawn once, scored, kept on disk so that a
   * resumed run compares against the very same samples.
   *
   * @param prompts the held-out prompts
   * @param completions per prompt, the reference completions
   * @param rewards per prompt, their rewards
   */
  public record ReferenceSamples(
      List<Prompt> prompts, List<List<TokenSequence>> completions, List<double[]> rewards) {
    /**
     * Copies the lists.
     *
     * @param prompts see the record description
     * @param completions see the record description
     * @param rewards see the record description
     */
    public ReferenceSamples {
      prompts = List.copyOf(prompts);
      completions = List.copyOf(completions);
      List<double[]> copy = new ArrayList<>(rewards.size());
      for (double[] r : rewards) {
        copy.add(r.clone());
      }
      rewards = List.copyOf(copy);
      if (prompts.size() != completions.size() || prompts.size() != rewards.size()) {
        throw new IllegalArgumentException(
            "Expected completions and rewards for each of "
                + prompts.size()
                + " prompts, found "
                + completions.size()
                + " and "
                + rewards.size());
      }
    }

    /**
     * Returns the mean reward over all reference samples.
     *
     * @return the mean
     */
    public double meanReward() {
      double s = 0;
      int n = 0;
      for (double[] r : rewards) {
        for (double v : r) {
          s += v;
          n++;
        }
      }
      return s / n;
    }

    /**
     * Returns how many reference samples each prompt has.
     *
     * @return k
     */
    public int perPrompt() {
      return rewards.get(0).length;
    }
  }

  /**
   * Returns the reference samples of {@code prompts}: read from {@code cache} when it holds them
   * for the same prompts, k, seed and reference, else drawn from {@code referenceSampler}, scored
   * and written there.
   *
   * @param cache the run's {@code eval-reference.jsonl}
   * @param prompts the held-out prompts
   * @param k samples per prompt
   * @param referenceSampler draws the reference's samples (role {@link PolicyRole#POLICY} of a
   *     sampler over the reference model)
   * @param reward scores them
   * @param seed the run's seed
   * @param identity what identifies the reference model and sampling settings
   * @param writer writes the cache file atomically (path, text)
   * @return the samples
   * @throws IOException when the cache cannot be read or written
   */
  public static ReferenceSamples referenceSamples(
      Path cache,
      List<Prompt> prompts,
      int k,
      PolicySampler referenceSampler,
      RewardModel reward,
      long seed,
      String identity,
      BiConsumer<Path, String> writer)
      throws IOException {
    Map<String, Object> header = new LinkedHashMap<>();
    header.put("format", 1);
    header.put("seed", seed);
    header.put("referenceSamples", k);
    header.put("reference", identity);
    List<Object> ids = new ArrayList<>();
    for (Prompt p : prompts) {
      ids.add(p.id());
    }
    header.put("prompts", ids);
    String headerLine = Json.write(header);
    if (Files.exists(cache)) {
      ReferenceSamples cached = readCache(cache, headerLine, prompts);
      if (cached != null) {
        return cached;
      }
    }
    List<Generation> samples =
        referenceSampler.sample(prompts, k, PolicyRole.POLICY, seed(seed, -1));
    double[] scores = reward.score(samples);
    List<List<TokenSequence>> completions = new ArrayList<>();
    List<double[]> rewards = new ArrayList<>();
    StringBuilder text = new StringBuilder(headerLine).append('\n');
    for (int p = 0; p < prompts.size(); p++) {
      List<TokenSequence> c = new ArrayList<>(k);
      double[] r = new double[k];
      List<Object> tokenLists = new ArrayList<>();
      List<Object> rewardList = new ArrayList<>();
      for (int j = 0; j < k; j++) {
        Generation g = samples.get(p * k + j);
        c.add(g.completion());
        r[j] = scores[p * k + j];
        List<Object> t = new ArrayList<>();
        for (int i = 0; i < g.completion().length(); i++) {
          t.add(g.completion().get(i));
        }
        tokenLists.add(t);
        rewardList.add(r[j]);
      }
      completions.add(c);
      rewards.add(r);
      Map<String, Object> line = new LinkedHashMap<>();
      line.put("id", prompts.get(p).id());
      line.put("completions", tokenLists);
      line.put("rewards", rewardList);
      text.append(Json.write(line)).append('\n');
    }
    writer.accept(cache, text.toString());
    return new ReferenceSamples(prompts, completions, rewards);
  }

  @SuppressWarnings("unchecked")
  private static ReferenceSamples readCache(Path cache, String header, List<Prompt> prompts)
      throws IOException {
    List<String> lines = Files.readAllLines(cache, StandardCharsets.UTF_8);
    if (lines.size() != prompts.size() + 1 || !lines.get(0).equals(header)) {
      return null;
    }
    List<List<TokenSequence>> completions = new ArrayList<>();
    List<double[]> rewards = new ArrayList<>();
    try {
      for (int p = 0; p < prompts.size(); p++) {
        Map<String, Object> m = Json.parseObject(lines.get(p + 1));
        if (!prompts.get(p).id().equals(m.get("id"))) {
          return null;
        }
        List<Object> tokenLists = (List<Object>) m.get("completions");
        List<Object> rewardList = (List<Object>) m.get("rewards");
        List<TokenSequence> c = new ArrayList<>();
        double[] r = new double[rewardList.size()];
        for (int j = 0; j < tokenLists.size(); j++) {
          List<Object> t = (List<Object>) tokenLists.get(j);
          int[] ids = new int[t.size()];
          for (int i = 0; i < ids.length; i++) {
            ids[i] = ((Number) t.get(i)).intValue();
          }
          c.add(TokenSequence.of(ids));
          r[j] = ((Number) rewardList.get(j)).doubleValue();
        }
        completions.add(c);
        rewards.add(r);
      }
    } catch (IllegalArgumentException | ClassCastException | NullPointerException e) {
      return null; // not ours, or torn: draw again
    }
    return new ReferenceSamples(prompts, completions, rewards);
  }
}
