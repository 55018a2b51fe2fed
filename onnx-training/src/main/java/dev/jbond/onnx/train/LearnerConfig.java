package dev.jbond.onnx.train;

import dev.jbond.internal.Checks;
import dev.jbond.onnx.ort.SessionConfig;
import java.util.Objects;

/**
 * How {@link OrtPolicyLearner} trains: AdamW settings, learning-rate schedule, gradient clipping,
 * the size of one ONNX Runtime run and the session options. Build one with {@link #builder()}.
 *
 * @param learningRate the base learning rate of {@link AdamW}, finite and {@code >= 0}; default
 *     {@value #DEFAULT_LEARNING_RATE}, the J-BOND runs of the BOND paper (Sessa et al., arXiv
 *     2407.14622)
 * @param beta1 AdamW's first-moment rate, in {@code [0, 1)}; default {@value AdamW#DEFAULT_BETA1}
 * @param beta2 AdamW's second-moment rate, in {@code [0, 1)}; default {@value AdamW#DEFAULT_BETA2}
 * @param epsilon AdamW's stabiliser, {@code > 0}; default {@value AdamW#DEFAULT_EPSILON}
 * @param weightDecay AdamW's decoupled weight decay, {@code >= 0}; default 0 (the paper uses Adam)
 * @param schedule the learning-rate schedule; default {@code LearningRateSchedule.constant(100)}:
 *     the paper's 100 warm-up steps, then constant
 * @param maxGradientNorm the global L2 norm the gradient is clipped to ({@code g <- g * min(1, max
 *     / (|g| + 1e-6))}, as PyTorch's {@code clip_grad_norm_}); 0 disables clipping; default {@value
 *     #DEFAULT_MAX_GRADIENT_NORM}, the Hugging Face Trainer's default
 * @param maxTokensPerRun the most padded tokens (batch size times longest sequence) one ONNX
 *     Runtime run may hold; larger calls are split into runs whose gradients are summed. A single
 *     longer sequence still runs alone. Memory of one run grows with tokens times vocabulary
 *     (logits, log-softmax and one-hot targets with their gradients). Default {@value
 *     #DEFAULT_MAX_TOKENS_PER_RUN}
 * @param maxRetainedTokens the most padded tokens whose forward activations {@link
 *     OrtPolicyLearner#prepareStep} keeps until the following {@link OrtPolicyLearner#step}, so
 *     that the step runs only the backward pass over them; runs beyond it keep their
 *     log-probabilities only and run their forward pass again in the step. Memory grows as for
 *     {@code maxTokensPerRun}, times the runs kept. 0 keeps none; default {@value
 *     #DEFAULT_MAX_RETAINED_TOKENS}
 * @param contextLength the most positions the model accepts, checked before running; 0 takes it
 *     from the model ({@link PolicyModel#contextLength()}), where it may be unknown; default 0
 * @param session the ONNX Runtime session options, including the execution provider; default {@link
 *     SessionConfig#defaults()} (CPU)
 */
public record LearnerConfig(
    double learningRate,
    double beta1,
    double beta2,
    double epsilon,
    double weightDecay,
    LearningRateSchedule schedule,
    double maxGradientNorm,
    int maxTokensPerRun,
    int maxRetainedTokens,
    int contextLength,
    SessionConfig session) {
  /** The default base learning rate, {@value} (BOND paper, J-BOND runs). */
  public static final double DEFAULT_LEARNING_RATE = 3e-6;

  /** The default warm-up length, {@value} steps (BOND paper, J-BOND runs). */
  public static final long DEFAULT_WARMUP_STEPS = 100;

  /** The default clipping norm, {@value} (Hugging Face Trainer's {@code max_grad_norm}). */
  public static final double DEFAULT_MAX_GRADIENT_NORM = 1.0;

  /** The default size of one ONNX Runtime run, {@value} padded tokens. */
  public static final int DEFAULT_MAX_TOKENS_PER_RUN = 4096;

  /** The default budget of forward activations kept for the next step, {@value} padded tokens. */
  public static final int DEFAULT_MAX_RETAINED_TOKENS = 4 * DEFAULT_MAX_TOKENS_PER_RUN;

  /**
   * Validates the components.
   *
   * @param learningRate see the record description
   * @param beta1 see the record description
   * @param beta2 see the record description
   * @param epsilon see the record description
   * @param weightDecay see the record description
   * @param schedule see the record description
   * @param maxGradientNorm see the record description
   * @param maxTokensPerRun see the record description
   * @param maxRetainedTokens see the record description
   * @param contextLength see the record description
   * @param session see the record description
   * @throws IllegalArgumentException when a setting is out of range
   */
  public LearnerConfig {
    Checks.checkNonNegative(learningRate, "learning rate");
    Checks.checkArgument(beta1 >= 0 && beta1 < 1, "Expected beta1 in [0, 1), found %s", beta1);
    Checks.checkArgument(beta2 >= 0 && beta2 < 1, "Expected beta2 in [0, 1), found %s", beta2);
    Checks.checkArgument(
        epsilon > 0 && Double.isFinite(epsilon), "Expected epsilon > 0, found %s", epsilon);
    Checks.checkNonNegative(weightDecay, "weight decay");
    Objects.requireNonNull(schedule, "schedule");
    Checks.checkNonNegative(maxGradientNorm, "maximum gradient norm");
    Checks.checkAtLeast(maxTokensPerRun, 1, "maxTokensPerRun");
    Checks.checkAtLeast(maxRetainedTokens, 0, "maxRetainedTokens");
    Checks.checkAtLeast(contextLength, 0, "contextLength");
    Objects.requireNonNull(session, "session");
  }

  /**
   * Returns the defaults.
   *
   * @return the default configuration
   */
  public static LearnerConfig defaults() {
    return builder().build();
  }

  /**
   * Starts a configuration with all defaults.
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the learning rate of step {@code step}: the schedule applied to the base rate.
   *
   * @param step the step being taken, {@code >= 1}
   * @return the learning rate
   */
  public double learningRateAt(long step) {
    return schedule.rate(learningRate, step);
  }

  /** Builds a {@link LearnerConfig}; every setting is optional (see the record for defaults). */
  public static final class Builder {
    private double learningRate = DEFAULT_LEARNING_RATE;
    private double beta1 = AdamW.DEFAULT_BETA1;
    private double beta2 = AdamW.DEFAULT_BETA2;
    private double epsilon = AdamW.DEFAULT_EPSILON;
    private double weightDecay;
    private LearningRateSchedule schedule = LearningRateSchedule.constant(DEFAULT_WARMUP_STEPS);
    private double maxGradientNorm = DEFAULT_MAX_GRADIENT_NORM;
    private int maxTokensPerRun = DEFAULT_MAX_TOKENS_PER_RUN;
    private int maxRetainedTokens = DEFAULT_MAX_RETAINED_TOKENS;
    private int contextLength;
    private SessionConfig session = SessionConfig.defaults();

    private Builder() {}

    /**
     * Sets the base learning rate. Default {@value LearnerConfig#DEFAULT_LEARNING_RATE}.
     *
     * @param learningRate the rate, {@code >= 0}
     * @return this builder
     */
    public Builder optLearningRate(double learningRate) {
      this.learningRate = learningRate;
      return this;
    }

    /**
     * Sets AdamW's moment rates. Default ({@value AdamW#DEFAULT_BETA1}, {@value
     * AdamW#DEFAULT_BETA2}).
     *
     * @param beta1 the first-moment rate, in {@code [0, 1)}
     * @param beta2 the second-moment rate, in {@code [0, 1)}
     * @return this builder
     */
    public Builder optBetas(double beta1, double beta2) {
      this.beta1 = beta1;
      this.beta2 = beta2;
      return this;
    }

    /**
     * Sets AdamW's stabiliser. Default {@value AdamW#DEFAULT_EPSILON}.
     *
     * @param epsilon the stabiliser, {@code > 0}
     * @return this builder
     */
    public Builder optEpsilon(double epsilon) {
      this.epsilon = epsilon;
      return this;
    }

    /**
     * Sets the decoupled weight decay. Default 0.
     *
     * @param weightDecay the decay, {@code >= 0}
     * @return this builder
     */
    public Builder optWeightDecay(double weightDecay) {
      this.weightDecay = weightDecay;
      return this;
    }

    /**
     * Sets the learning-rate schedule. Default {@code LearningRateSchedule.constant(100)}.
     *
     * @param schedule the schedule
     * @return this builder
     */
    public Builder optSchedule(LearningRateSchedule schedule) {
      this.schedule = Objects.requireNonNull(schedule, "schedule");
      return this;
    }

    /**
     * Sets the clipping norm; 0 disables clipping. Default {@value
     * LearnerConfig#DEFAULT_MAX_GRADIENT_NORM}.
     *
     * @param maxGradientNorm the norm, {@code >= 0}
     * @return this builder
     */
    public Builder optMaxGradientNorm(double maxGradientNorm) {
      this.maxGradientNorm = maxGradientNorm;
      return this;
    }

    /**
     * Sets the most padded tokens per ONNX Runtime run. Default {@value
     * LearnerConfig#DEFAULT_MAX_TOKENS_PER_RUN}.
     *
     * @param maxTokensPerRun the token budget, {@code >= 1}
     * @return this builder
     */
    public Builder optMaxTokensPerRun(int maxTokensPerRun) {
      this.maxTokensPerRun = maxTokensPerRun;
      return this;
    }

    /**
     * Sets the most padded tokens whose forward activations are kept from {@link
     * OrtPolicyLearner#prepareStep} to the next step; 0 keeps none. Default {@value
     * LearnerConfig#DEFAULT_MAX_RETAINED_TOKENS}.
     *
     * @param maxRetainedTokens the token budget, {@code >= 0}
     * @return this builder
     */
    public Builder optMaxRetainedTokens(int maxRetainedTokens) {
      this.maxRetainedTokens = maxRetainedTokens;
      return this;
    }

    /**
     * Sets the model's context length; 0 takes it from the model. Default 0.
     *
     * @param contextLength the most positions, {@code >= 0}
     * @return this builder
     */
    public Builder optContextLength(int contextLength) {
      this.contextLength = contextLength;
      return this;
    }

    /**
     * Sets the ONNX Runtime session options. Default {@link SessionConfig#defaults()}.
     *
     * @param session the options
     * @return this builder
     */
    public Builder optSession(SessionConfig session) {
      this.session = Objects.requireNonNull(session, "session");
      return this;
    }

    /**
     * Validates and returns the configuration.
     *
     * @return the configuration
     * @throws IllegalArgumentException when a setting is out of range
     */
    public LearnerConfig build() {
      return new LearnerConfig(
          learningRate,
          beta1,
          beta2,
          epsilon,
          weightDecay,
          schedule,
          maxGradientNorm,
          maxTokensPerRun,
          maxRetainedTokens,
          contextLength,
          session);
    }
  }
}
