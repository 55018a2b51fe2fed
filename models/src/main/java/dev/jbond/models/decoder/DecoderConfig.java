package dev.jbond.models.decoder;

import dev.jbond.internal.Checks;
import dev.jbond.onnx.graph.Shape;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The hyperparameters of jbond's GPT-style causal decoder: the GPT-2 architecture (Radford et al.,
 * "Language Models are Unsupervised Multitask Learners", 2019, as implemented by Hugging Face
 * transformers' {@code GPT2LMHeadModel}) at a configurable size.
 *
 * <p>With {@code V = vocabSize}, {@code C = contextLength}, {@code L = layers}, {@code d = width},
 * {@code H = heads}, {@code m = mlpMultiplier}, the model maps token ids {@code t_1..t_T} at
 * positions {@code p_1..p_T} to logits:
 *
 * <pre>
 *   x_0    = wte[t] + wpe[p]                                      learned positions, p &lt; C
 *   a_l    = x_(l-1) + Attn_l(LN_l1(x_(l-1)))                     pre-LayerNorm residual blocks
 *   x_l    = a_l + W_l2 GELU(W_l1 LN_l2(a_l) + b_l1) + b_l2       MLP of width m * d
 *   logits = LN_f(x_L) wte^T          (tied)   or   LN_f(x_L) lm_head^T   (untied)
 * </pre>
 *
 * where {@code Attn} is causal multi-head self-attention with {@code H} heads of width {@code d /
 * H}, scores scaled by {@code 1 / sqrt(d / H)}, and every LayerNorm has a learned scale and shift
 * and adds {@code layerNormEpsilon} to the variance.
 *
 * <p>Initialisation (GPT-2, as in transformers' {@code GPT2PreTrainedModel._init_weights}):
 * embeddings and projection weights are drawn from {@code N(0, initStd^2)}; the two projections
 * that write into the residual stream ({@code attn.c_proj} and {@code mlp.c_proj}) from {@code N(0,
 * (initStd / sqrt(2 L))^2)}; biases are 0; LayerNorm scales 1 and shifts 0. {@link
 * DecoderWeights#initialize(DecoderConfig)} documents how {@code seed} drives the draws.
 *
 * <p>Parameters are named as in GPT-2 checkpoints, without the {@code transformer.} prefix, and
 * linear weights are stored {@code [in, out]} like GPT-2's {@code Conv1D}, so {@code y = x W + b}
 * ({@link #parameterShapes()}).
 *
 * @param vocabSize {@code V}, the number of token ids, {@code >= 1}
 * @param contextLength {@code C}, the number of learned positions (the longest sequence), {@code >=
 *     1}
 * @param layers {@code L}, the number of transformer blocks, {@code >= 1}
 * @param width {@code d}, the residual-stream width, {@code >= 1} and divisible by {@code heads}
 * @param heads {@code H}, the number of attention heads, {@code >= 1}
 * @param mlpMultiplier {@code m}, the MLP's hidden width over {@code d}, {@code >= 1}
 * @param tiedEmbeddings whether the output projection reuses {@code wte.weight} (else a separate
 *     {@code lm_head.weight})
 * @param gelu the GELU form of the MLP
 * @param layerNormEpsilon the LayerNorm variance epsilon, finite and {@code > 0}
 * @param opset the ONNX standard-domain opset of the emitted graphs, 14 to 17: from 17 each
 *     LayerNorm is one {@code LayerNormalization} node, below it is decomposed into {@code
 *     ReduceMean}, {@code Sub}, {@code Mul}, {@code Sqrt} and {@code Div}
 * @param initStd the standard deviation of the initial weights, finite and {@code > 0}
 * @param seed the seed of the initial weights
 */
public record DecoderConfig(
    int vocabSize,
    int contextLength,
    int layers,
    int width,
    int heads,
    int mlpMultiplier,
    boolean tiedEmbeddings,
    Gelu gelu,
    double layerNormEpsilon,
    int opset,
    double initStd,
    long seed) {
  /** The lowest supported opset. */
  public static final int MIN_OPSET = 14;

  /** The highest supported opset, and the default. */
  public static final int MAX_OPSET = 17;

  /** The first opset with a {@code LayerNormalization} op. */
  public static final int LAYER_NORMALIZATION_OPSET = 17;

  /**
   * Validates the components.
   *
   * @param vocabSize see the record description
   * @param contextLength see the record description
   * @param layers see the record description
   * @param width see the record description
   * @param heads see the record description
   * @param mlpMultiplier see the record description
   * @param tiedEmbeddings see the record description
   * @param gelu see the record description
   * @param layerNormEpsilon see the record description
   * @param opset see the record description
   * @param initStd see the record description
   * @param seed see the record description
   * @throws IllegalArgumentException when a size is below 1, {@code width} is not divisible by
   *     {@code heads}, epsilon or standard deviation is not finite and positive, the opset is
   *     outside 14 to 17, or a parameter would exceed 2 GiB
   * @throws NullPointerException when {@code gelu} is null
   */
  public DecoderConfig {
    Checks.checkArgument(vocabSize >= 1, "Expected vocabSize >= 1, found %d", vocabSize);
    Checks.checkArgument(
        contextLength >= 1, "Expected contextLength >= 1, found %d", contextLength);
    Checks.checkArgument(layers >= 1, "Expected layers >= 1, found %d", layers);
    Checks.checkArgument(width >= 1, "Expected width >= 1, found %d", width);
    Checks.checkArgument(heads >= 1, "Expected heads >= 1, found %d", heads);
    Checks.checkArgument(
        width % heads == 0,
        "Expected width divisible by heads, found width %d and heads %d",
        width,
        heads);
    Checks.checkArgument(
        mlpMultiplier >= 1, "Expected mlpMultiplier >= 1, found %d", mlpMultiplier);
    Objects.requireNonNull(gelu, "gelu");
    Checks.checkArgument(
        Double.isFinite(layerNormEpsilon) && layerNormEpsilon > 0,
        "Expected a finite layerNormEpsilon > 0, found %s",
        layerNormEpsilon);
    Checks.checkArgument(
        opset >= MIN_OPSET && opset <= MAX_OPSET,
        "Expected an opset from %d to %d, found %d",
        MIN_OPSET,
        MAX_OPSET,
        opset);
    Checks.checkArgument(
        Double.isFinite(initStd) && initStd > 0,
        "Expected a finite initStd > 0, found %s",
        initStd);
    long biggest =
        Math.max(
            Math.max((long) vocabSize, (long) contextLength) * width,
            (long) Math.max(3, mlpMultiplier) * width * width);
    Checks.checkArgument(
        biggest <= (Integer.MAX_VALUE - 8) / Float.BYTES,
        "Expected every parameter under 2 GiB, found one of %d floats",
        biggest);
  }

  /**
   * Starts a configuration. The sizes and the seed must be set; everything else has a default.
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
    return new Builder()
        .setVocabSize(vocabSize)
        .setContextLength(contextLength)
        .setLayers(layers)
        .setWidth(width)
        .setHeads(heads)
        .setSeed(seed)
        .optMlpMultiplier(mlpMultiplier)
        .optTiedEmbeddings(tiedEmbeddings)
        .optGelu(gelu)
        .optLayerNormEpsilon(layerNormEpsilon)
        .optOpset(opset)
        .optInitStd(initStd);
  }

  /**
   * Returns the width of one attention head, {@code width / heads}.
   *
   * @return the head width
   */
  public int headWidth() {
    return width / heads;
  }

  /**
   * Returns the MLP's hidden width, {@code mlpMultiplier * width}.
   *
   * @return the hidden width
   */
  public int mlpWidth() {
    return mlpMultiplier * width;
  }

  /**
   * Returns the standard deviation of the residual projections' initial weights, {@code initStd /
   * sqrt(2 * layers)}.
   *
   * @return the standard deviation
   */
  public double residualInitStd() {
    return initStd / Math.sqrt(2.0 * layers);
  }

  /**
   * Returns every parameter's name and shape, in the canonical order (the order of {@link
   * DecoderWeights#tensors()} and of the weights file):
   *
   * <pre>
   *   wte.weight             [V, d]
   *   wpe.weight             [C, d]
   *   h.{i}.ln_1.weight      [d]           for each layer i = 0 .. L-1:
   *   h.{i}.ln_1.bias        [d]
   *   h.{i}.attn.c_attn.weight  [d, 3d]    query, key, value side by side
   *   h.{i}.attn.c_attn.bias    [3d]
   *   h.{i}.attn.c_proj.weight  [d, d]
   *   h.{i}.attn.c_proj.bias    [d]
   *   h.{i}.ln_2.weight      [d]
   *   h.{i}.ln_2.bias        [d]
   *   h.{i}.mlp.c_fc.weight  [d, m d]
   *   h.{i}.mlp.c_fc.bias    [m d]
   *   h.{i}.mlp.c_proj.weight   [m d, d]
   *   h.{i}.mlp.c_proj.bias     [d]
   *   ln_f.weight            [d]
   *   ln_f.bias              [d]
   *   lm_head.weight         [V, d]        untied embeddings only
   * </pre>
   *
   * @return name to shape, in canonical order, unmodifiable
   */
  public Map<String, Shape> parameterShapes() {
    Map<String, Shape> shapes = new LinkedHashMap<>();
    long d = width;
    shapes.put("wte.weight", Shape.of(vocabSize, d));
    shapes.put("wpe.weight", Shape.of(contextLength, d));
    for (int i = 0; i < layers; i++) {
      String p = "h." + i + ".";
      shapes.put(p + "ln_1.weight", Shape.of(d));
      shapes.put(p + "ln_1.bias", Shape.of(d));
      shapes.put(p + "attn.c_attn.weight", Shape.of(d, 3 * d));
      shapes.put(p + "attn.c_attn.bias", Shape.of(3 * d));
      shapes.put(p + "attn.c_proj.weight", Shape.of(d, d));
      shapes.put(p + "attn.c_proj.bias", Shape.of(d));
      shapes.put(p + "ln_2.weight", Shape.of(d));
      shapes.put(p + "ln_2.bias", Shape.of(d));
      shapes.put(p + "mlp.c_fc.weight", Shape.of(d, mlpWidth()));
      shapes.put(p + "mlp.c_fc.bias", Shape.of(mlpWidth()));
      shapes.put(p + "mlp.c_proj.weight", Shape.of(mlpWidth(), d));
      shapes.put(p + "mlp.c_proj.bias", Shape.of(d));
    }
    shapes.put("ln_f.weight", Shape.of(d));
    shapes.put("ln_f.bias", Shape.of(d));
    if (!tiedEmbeddings) {
      shapes.put("lm_head.weight", Shape.of(vocabSize, d));
    }
    return Collections.unmodifiableMap(shapes);
  }

  /**
   * Returns the number of scalar parameters (a tied embedding counted once).
   *
   * @return the parameter count
   */
  public long parameterCount() {
    long count = 0;
    for (Shape shape : parameterShapes().values()) {
      count += shape.elementCount();
    }
    return count;
  }

  /**
   * Builds a {@link DecoderConfig}. Required: {@link #setVocabSize}, {@link #setContextLength},
   * {@link #setLayers}, {@link #setWidth}, {@link #setHeads} and {@link #setSeed}; the {@code opt}
   * settings have GPT-2's defaults.
   */
  public static final class Builder {
    private Integer vocabSize;
    private Integer contextLength;
    private Integer layers;
    private Integer width;
    private Integer heads;
    private Long seed;
    private int mlpMultiplier = 4;
    private boolean tiedEmbeddings = true;
    private Gelu gelu = Gelu.TANH;
    private double layerNormEpsilon = 1e-5;
    private int opset = MAX_OPSET;
    private double initStd = 0.02;

    private Builder() {}

    /**
     * Sets the vocabulary size {@code V}. Required.
     *
     * @param vocabSize the number of token ids
     * @return this builder
     */
    public Builder setVocabSize(int vocabSize) {
      this.vocabSize = vocabSize;
      return this;
    }

    /**
     * Sets the context length {@code C}. Required.
     *
     * @param contextLength the number of learned positions
     * @return this builder
     */
    public Builder setContextLength(int contextLength) {
      this.contextLength = contextLength;
      return this;
    }

    /**
     * Sets the number of layers {@code L}. Required.
     *
     * @param layers the number of transformer blocks
     * @return this builder
     */
    public Builder setLayers(int layers) {
      this.layers = layers;
      return this;
    }

    /**
     * Sets the width {@code d}. Required.
     *
     * @param width the residual-stream width
     * @return this builder
     */
    public Builder setWidth(int width) {
      this.width = width;
      return this;
    }

    /**
     * Sets the number of heads {@code H}. Required.
     *
     * @param heads the number of attention heads
     * @return this builder
     */
    public Builder setHeads(int heads) {
      this.heads = heads;
      return this;
    }

    /**
     * Sets the seed of the initial weights. Required.
     *
     * @param seed the seed
     * @return this builder
     */
    public Builder setSeed(long seed) {
      this.seed = seed;
      return this;
    }

    /**
     * Sets the MLP multiplier {@code m}. Default 4 (GPT-2's {@code n_inner = 4 * n_embd}).
     *
     * @param mlpMultiplier the MLP's hidden width over {@code d}
     * @return this builder
     */
    public Builder optMlpMultiplier(int mlpMultiplier) {
      this.mlpMultiplier = mlpMultiplier;
      return this;
    }

    /**
     * Sets whether the output projection reuses the token embedding. Default true (GPT-2 ties
     * them).
     *
     * @param tied true for tied embeddings
     * @return this builder
     */
    public Builder optTiedEmbeddings(boolean tied) {
      this.tiedEmbeddings = tied;
      return this;
    }

    /**
     * Sets the GELU form. Default {@link Gelu#TANH} (GPT-2's {@code gelu_new}).
     *
     * @param gelu the form
     * @return this builder
     */
    public Builder optGelu(Gelu gelu) {
      this.gelu = gelu;
      return this;
    }

    /**
     * Sets the LayerNorm epsilon. Default {@code 1e-5} (GPT-2's {@code layer_norm_epsilon}).
     *
     * @param epsilon the variance epsilon
     * @return this builder
     */
    public Builder optLayerNormEpsilon(double epsilon) {
      this.layerNormEpsilon = epsilon;
      return this;
    }

    /**
     * Sets the opset of the emitted graphs, 14 to 17. Default 17, which emits {@code
     * LayerNormalization} nodes; 14 to 16 decompose LayerNorm into primitive ops.
     *
     * @param opset the standard-domain opset
     * @return this builder
     */
    public Builder optOpset(int opset) {
      this.opset = opset;
      return this;
    }

    /**
     * Sets the standard deviation of the initial weights. Default 0.02 (GPT-2's {@code
     * initializer_range}).
     *
     * @param initStd the standard deviation
     * @return this builder
     */
    public Builder optInitStd(double initStd) {
      this.initStd = initStd;
      return this;
    }

    /**
     * Validates and returns the configuration.
     *
     * @return the configuration
     * @throws IllegalStateException when a required setting is missing
     * @throws IllegalArgumentException when a setting is invalid (see {@link DecoderConfig})
     */
    public DecoderConfig build() {
      return new DecoderConfig(
          required(vocabSize, "vocabSize", "setVocabSize"),
          required(contextLength, "contextLength", "setContextLength"),
          required(layers, "layers", "setLayers"),
          required(width, "width", "setWidth"),
          required(heads, "heads", "setHeads"),
          mlpMultiplier,
          tiedEmbeddings,
          gelu,
          layerNormEpsilon,
          opset,
          initStd,
          required(seed, "seed", "setSeed"));
    }

    private static <T> T required(T value, String name, String setter) {
      Checks.checkState(
          value != null, "Expected a value for %s (%s), found none", name, setter + "(...)");
      return value;
    }
  }
}
