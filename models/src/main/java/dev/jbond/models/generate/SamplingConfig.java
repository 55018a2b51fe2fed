package dev.jbond.models.generate;

import dev.jbond.internal.Checks;
import dev.jbond.models.policy.PolicyFiles;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * How the next token is drawn from a decoder's logits, and when a completion stops.
 *
 * <p>With logits {@code l_1..l_V} at the last position, temperature {@code T}, top-k {@code k} and
 * top-p {@code p}, the sampling distribution is built in this order (the order of Hugging Face
 * transformers' {@code TemperatureLogitsWarper}, {@code TopKLogitsWarper}, {@code
 * TopPLogitsWarper}):
 *
 * <pre>
 *   z_v   = l_v / T                                            temperature
 *   K     = the k tokens of largest z (all V when k = 0)       top-k
 *   q_v   = exp(z_v) / sum_{u in K} exp(z_u)   for v in K
 *   N     = the smallest prefix of K, sorted by q descending,
 *           whose total q is >= p (all of K when p = 1)        top-p (nucleus)
 *   pi(v) = exp(z_v) / sum_{u in N} exp(z_u)   for v in N, else 0
 * </pre>
 *
 * Ties in the sort go to the smaller token id. {@code T = 0} is greedy decoding: the largest logit
 * (the smallest id among equals) with probability 1, ignoring top-k and top-p.
 *
 * <p>A row stops after it emits one of {@link #eosTokenIds()} (the EOS token is part of the
 * completion) or after {@link #maxNewTokens()} tokens.
 *
 * @param temperature {@code T}, finite and {@code >= 0}; 0 is greedy
 * @param topK {@code k}, {@code >= 0}; 0 turns top-k off
 * @param topP {@code p}, in {@code (0, 1]}; 1 turns top-p off
 * @param maxNewTokens the most tokens generated per completion, {@code >= 1}
 * @param eosTokenIds the token ids that end a completion, each {@code >= 0}, without duplicates;
 *     may be empty (then every completion has {@code maxNewTokens} tokens); copied
 * @param padTokenId the token id fed at padded and finished slots, {@code >= 0}; its attention mask
 *     is 0 there, so it never changes a result
 */
public record SamplingConfig(
    double temperature,
    int topK,
    double topP,
    int maxNewTokens,
    List<Integer> eosTokenIds,
    int padTokenId) {
  /**
   * Validates and copies the components.
   *
   * @param temperature see the record description
   * @param topK see the record description
   * @param topP see the record description
   * @param maxNewTokens see the record description
   * @param eosTokenIds see the record description
   * @param padTokenId see the record description
   * @throws IllegalArgumentException when a value is out of range or an EOS id repeats
   * @throws NullPointerException when {@code eosTokenIds} or one of its elements is null
   */
  public SamplingConfig {
    Checks.checkArgument(
        Double.isFinite(temperature) && temperature >= 0,
        "Expected a finite temperature >= 0, found %s",
        temperature);
    Checks.checkArgument(topK >= 0, "Expected topK >= 0 (0 = off), found %d", topK);
    Checks.checkArgument(
        topP > 0 && topP <= 1, "Expected topP in (0, 1] (1 = off), found %s", topP);
    Checks.checkArgument(maxNewTokens >= 1, "Expected maxNewTokens >= 1, found %d", maxNewTokens);
    eosTokenIds = List.copyOf(eosTokenIds);
    for (int i = 0; i < eosTokenIds.size(); i++) {
      int id = eosTokenIds.get(i);
      Checks.checkArgument(id >= 0, "Expected EOS token ids >= 0, found %d", id);
      Checks.checkArgument(
          eosTokenIds.indexOf(id) == i, "Expected distinct EOS token ids, found %d twice", id);
    }
    Checks.checkArgument(padTokenId >= 0, "Expected padTokenId >= 0, found %d", padTokenId);
  }

  /**
   * Starts a configuration; {@link Builder#setMaxNewTokens} is required.
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns a builder holding this configuration, to derive a variant.
   *
   * @return the builder
   */
  public Builder toBuilder() {
    Builder builder =
        new Builder()
            .setMaxNewTokens(maxNewTokens)
            .optTemperature(temperature)
            .optTopK(topK)
            .optTopP(topP)
            .optPadTokenId(padTokenId);
    builder.eosTokenIds.addAll(eosTokenIds);
    return builder;
  }

  /**
   * Whether decoding is greedy ({@code temperature == 0}).
   *
   * @return true for greedy decoding
   */
  public boolean isGreedy() {
    return temperature == 0;
  }

  /**
   * Whether {@code token} ends a completion.
   *
   * @param token a token id
   * @return true when it is one of {@link #eosTokenIds()}
   */
  public boolean isEos(int token) {
    return eosTokenIds.contains(token);
  }

  /**
   * Checks the special token ids against a vocabulary.
   *
   * @param vocabularySize the model's vocabulary size
   * @throws IllegalArgumentException when an EOS or the pad id is {@code >= vocabularySize}
   */
  public void checkVocabulary(int vocabularySize) {
    for (int id : eosTokenIds) {
      Checks.checkArgument(
          id < vocabularySize,
          "Expected EOS token ids < vocabulary size %d, found %d",
          vocabularySize,
          id);
    }
    Checks.checkArgument(
        padTokenId < vocabularySize,
        "Expected padTokenId < vocabulary size %d, found %d",
        vocabularySize,
        padTokenId);
  }

  /**
   * Builds a {@link SamplingConfig}. Required: {@link #setMaxNewTokens}; the {@code opt} settings
   * default to plain ancestral sampling from the model's distribution.
   */
  public static final class Builder {
    private Integer maxNewTokens;
    private double temperature = 1.0;
    private int topK;
    private double topP = 1.0;
    private final List<Integer> eosTokenIds = new ArrayList<>();
    private int padTokenId;

    private Builder() {}

    /**
     * Sets the most tokens generated per completion. Required.
     *
     * @param maxNewTokens the limit, {@code >= 1}
     * @return this builder
     */
    public Builder setMaxNewTokens(int maxNewTokens) {
      this.maxNewTokens = maxNewTokens;
      return this;
    }

    /**
     * Sets the temperature. Default 1.0: the model's own distribution; 0 is greedy.
     *
     * @param temperature the temperature, finite and {@code >= 0}
     * @return this builder
     */
    public Builder optTemperature(double temperature) {
      this.temperature = temperature;
      return this;
    }

    /**
     * Sets top-k. Default 0: off.
     *
     * @param topK how many of the most likely tokens to keep, {@code >= 0}
     * @return this builder
     */
    public Builder optTopK(int topK) {
      this.topK = topK;
      return this;
    }

    /**
     * Sets top-p (nucleus sampling, Holtzman et al., "The Curious Case of Neural Text
     * Degeneration", 2020). Default 1.0: off.
     *
     * @param topP the probability mass to keep, in {@code (0, 1]}
     * @return this builder
     */
    public Builder optTopP(double topP) {
      this.topP = topP;
      return this;
    }

    /**
     * Adds token ids that end a completion. Default: none.
     *
     * @param ids the EOS token ids
     * @return this builder
     */
    public Builder optEosTokenIds(int... ids) {
      for (int id : ids) {
        eosTokenIds.add(id);
      }
      return this;
    }

    /**
     * Sets the token fed at padded and finished slots. Default 0; any id in the vocabulary works,
     * since those slots are masked.
     *
     * @param padTokenId the pad token id, {@code >= 0}
     * @return this builder
     */
    public Builder optPadTokenId(int padTokenId) {
      this.padTokenId = padTokenId;
      return this;
    }

    /**
     * Takes the EOS and pad token ids that a model directory declares, where it declares them.
     *
     * @param directory the model directory
     * @return this builder
     */
    public Builder optSpecialTokens(PolicyFiles directory) {
      Objects.requireNonNull(directory, "directory");
      directory
          .eosTokenId()
          .ifPresent(
              id -> {
                if (!eosTokenIds.contains(id)) {
                  eosTokenIds.add(id);
                }
              });
      directory.padTokenId().ifPresent(id -> padTokenId = id);
      return this;
    }

    /**
     * Validates and returns the configuration.
     *
     * @return the configuration
     * @throws IllegalStateException when {@link #setMaxNewTokens} was not called
     * @throws IllegalArgumentException when a value is out of range (see {@link SamplingConfig})
     */
    public SamplingConfig build() {
      Checks.checkState(
          maxNewTokens != null, "Expected maxNewTokens to be set (setMaxNewTokens), found none");
      return new SamplingConfig(temperature, topK, topP, maxNewTokens, eosTokenIds, padTokenId);
    }
  }
}
