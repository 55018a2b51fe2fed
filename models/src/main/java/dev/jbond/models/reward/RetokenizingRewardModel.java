package dev.jbond.models.reward;

import dev.jbond.Generation;
import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.internal.Checks;
import dev.jbond.models.tokenizer.Tokenizer;
import dev.jbond.spi.RewardModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A reward model with a tokenizer of its own: each generation's prompt and completion are decoded
 * to text with the policy's tokenizer (special tokens dropped, bytes that are not UTF-8 replaced),
 * put into a template ({@code {prompt}} and {@code {completion}} stand for them) and encoded with
 * the reward's tokenizer, its special tokens included ({@link Tokenizer#encodeWithSpecialTokens}:
 * BERT's {@code [CLS] ... [SEP]}); the inner model scores those ids as the prompt of a generation
 * with an empty completion.
 *
 * <p>Thread-safe when the inner model is. Closing closes the inner model.
 */
public final class RetokenizingRewardModel implements RewardModel {
  /** The template used when none is given. */
  public static final String DEFAULT_TEMPLATE = "{prompt}{completion}";

  private static final String PROMPT = "{prompt}";
  private static final String COMPLETION = "{completion}";

  private final RewardModel inner;
  private final Tokenizer policy;
  private final Tokenizer reward;
  private final String template;

  /**
   * Wraps a reward model.
   *
   * @param inner the model that scores the reward tokenizer's ids
   * @param policy the policy's tokenizer, which decodes generations
   * @param reward the reward model's tokenizer
   * @param template the text around prompt and completion; must hold {@code {completion}}
   * @throws IllegalArgumentException when the template lacks {@code {completion}}
   */
  public RetokenizingRewardModel(
      RewardModel inner, Tokenizer policy, Tokenizer reward, String template) {
    this.inner = Objects.requireNonNull(inner, "inner");
    this.policy = Objects.requireNonNull(policy, "policy");
    this.reward = Objects.requireNonNull(reward, "reward");
    this.template = Objects.requireNonNull(template, "template");
    Checks.checkArgument(
        template.contains(COMPLETION),
        "Expected a reward template holding {completion} (and optionally {prompt}), found '%s'",
        template);
  }

  /**
   * Returns the reward model's text of a generation.
   *
   * @param generation the generation
   * @return the text the reward tokenizer encodes
   */
  public String text(Generation generation) {
    String prompt = policy.decodeLenient(policy.withoutSpecialTokens(generation.prompt().tokens()));
    String completion = policy.decodeLenient(policy.withoutSpecialTokens(generation.completion()));
    StringBuilder out = new StringBuilder();
    int i = 0;
    while (i < template.length()) {
      if (template.startsWith(PROMPT, i)) {
        out.append(prompt);
        i += PROMPT.length();
      } else if (template.startsWith(COMPLETION, i)) {
        out.append(completion);
        i += COMPLETION.length();
      } else {
        out.append(template.charAt(i++));
      }
    }
    return out.toString();
  }

  @Override
  public double[] score(List<Generation> generations) {
    Checks.checkNotEmpty(generations, "generation");
    List<Generation> encoded = new ArrayList<>(generations.size());
    for (Generation g : generations) {
      TokenSequence ids = reward.encodeWithSpecialTokens(text(g));
      encoded.add(
          new Generation(
              new Prompt(g.prompt().id(), ids), TokenSequence.of(), Optional.empty(), g.model()));
    }
    return inner.score(encoded);
  }

  @Override
  public void close() {
    inner.close();
  }

  @Override
  public String toString() {
    return "RetokenizingRewardModel " + reward.name() + " template '" + template + "' " + inner;
  }
}
