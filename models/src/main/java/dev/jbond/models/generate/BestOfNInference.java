package dev.jbond.models.generate;

import dev.jbond.Generation;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.internal.Checks;
import dev.jbond.spi.PolicySampler;
import dev.jbond.spi.RewardModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Best-of-N inference, the baseline J-BOND distils: draw {@code N} completions per prompt from a
 * policy, score them with a reward model, and pick the one with the largest reward (the first among
 * equals).
 *
 * <p>{@code y* = argmax_{j = 1..N} r(x, y_j)}, {@code y_1..y_N ~ pi(. | x)} independently (seeded
 * per sequence by the sampler).
 */
public final class BestOfNInference {
  private BestOfNInference() {}

  /**
   * The candidates of one prompt.
   *
   * @param prompt the prompt
   * @param candidates its {@code N} completions, in sampling order
   * @param rewards one reward per candidate, when a reward model was given
   * @param best the index of the Best-of-N pick, when a reward model was given
   */
  public record PromptCandidates(
      Prompt prompt,
      List<Generation> candidates,
      Optional<List<Double>> rewards,
      OptionalInt best) {
    /**
     * Validates and copies the components.
     *
     * @param prompt see the record description
     * @param candidates see the record description
     * @param rewards see the record description
     * @param best see the record description
     * @throws IllegalArgumentException when there are no candidates, the rewards do not match them,
     *     or {@code best} is out of range or given without rewards
     */
    public PromptCandidates {
      Objects.requireNonNull(prompt, "prompt");
      candidates = List.copyOf(Checks.checkNotEmpty(candidates, "candidate"));
      rewards = rewards.map(List::copyOf);
      int n = candidates.size();
      rewards.ifPresent(r -> Checks.checkSameLength(n, r.size(), "rewards"));
      Checks.checkArgument(
          best.isEmpty() || (rewards.isPresent() && best.getAsInt() >= 0 && best.getAsInt() < n),
          "Expected a best index in [0, %d) with rewards, found %s",
          n,
          best);
    }
  }

  /**
   * Samples {@code n} candidates per prompt from the policy role and, when a reward model is given,
   * scores them and picks the best.
   *
   * @param sampler the policy sampler
   * @param prompts the prompts, not empty
   * @param n candidates per prompt, {@code >= 1}
   * @param reward the reward model, or empty for candidates only
   * @param seed the sampling seed
   * @return one entry per prompt, in order
   * @throws IllegalArgumentException when {@code prompts} is empty, {@code n < 1}, or the reward
   *     model returns a non-finite reward
   */
  public static List<PromptCandidates> run(
      PolicySampler sampler, List<Prompt> prompts, int n, Optional<RewardModel> reward, long seed) {
    Checks.checkNotEmpty(prompts, "prompt");
    Checks.checkAtLeast(n, 1, "candidates per prompt");
    List<Generation> all = sampler.sample(prompts, n, PolicyRole.POLICY, seed);
    Checks.verify(
        all.size() == prompts.size() * n,
        "Expected %d generations from the sampler, found %d",
        prompts.size() * n,
        all.size());
    double[] scores = reward.map(r -> r.score(all)).orElse(null);
    List<PromptCandidates> out = new ArrayList<>(prompts.size());
    for (int i = 0; i < prompts.size(); i++) {
      List<Generation> group = all.subList(i * n, (i + 1) * n);
      if (scores == null) {
        out.add(new PromptCandidates(prompts.get(i), group, Optional.empty(), OptionalInt.empty()));
        continue;
      }
      List<Double> rewards = new ArrayList<>(n);
      int best = 0;
      for (int j = 0; j < n; j++) {
        double r = Checks.checkReward(scores[i * n + j], group.get(j));
        rewards.add(r);
        if (r > rewards.get(best)) {
          best = j;
        }
      }
      out.add(
          new PromptCandidates(prompts.get(i), group, Optional.of(rewards), OptionalInt.of(best)));
    }
    return out;
  }
}
