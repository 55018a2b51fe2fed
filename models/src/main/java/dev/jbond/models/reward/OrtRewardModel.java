package dev.jbond.models.reward;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import dev.jbond.Generation;
import dev.jbond.internal.Checks;
import dev.jbond.onnx.ModelLoadException;
import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.ort.OrtFailures;
import dev.jbond.onnx.ort.OrtModelSession;
import dev.jbond.onnx.ort.OrtResource;
import dev.jbond.onnx.ort.OrtSessions;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.spi.RewardModel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.StringJoiner;

/**
 * A {@link RewardModel} over any ONNX graph that maps token ids (and optionally an attention mask)
 * to one score per sequence, run by ONNX Runtime.
 *
 * <h2>The graph contract</h2>
 *
 * <pre>
 *   input_ids        INT64 [B, T]     prompt ++ completion, right-padded with the pad id
 *   attention_mask   INT64 [B, T]     1 on real tokens, 0 on padding (optional input)
 *   score            FLOAT or DOUBLE [B] or [B, 1]; or
 *   logits           FLOAT or DOUBLE [B, labels], the column {@link Builder#optLabel} names
 *                    (Hugging Face sequence classification)
 * </pre>
 *
 * <p>The names are configurable ({@link Builder#optInputIdsName}, {@link
 * Builder#optAttentionMaskName}, {@link Builder#optOutputName}) and checked against the model's
 * metadata when it is opened: the token input must exist and be INT64, a named mask input must
 * exist, and the output must be float or double of rank 1, or of rank 2 with a last dimension of 1
 * (or dynamic, then checked on every run). By default the mask is fed when the model has an input
 * called {@code attention_mask}, and the output is the model's only output.
 *
 * <p>Each call scores {@code prompt ++ completion} of every generation, in chunks of at most {@link
 * Builder#optMaxBatchRows} rows, each chunk right-padded to its longest sequence. Scores are
 * returned as doubles in the generations' order.
 *
 * <p>Lifecycle: {@link #open} or {@link #builder} then {@link Builder#build()} opens the session;
 * {@link #score} may be called from several threads; {@link #close()} releases the session and is
 * idempotent; {@code score} after close throws {@code IllegalStateException("OrtRewardModel is
 * closed")}.
 */
public final class OrtRewardModel extends OrtResource implements RewardModel {
  /** The default name of the token-id input. */
  public static final String DEFAULT_INPUT_IDS = "input_ids";

  /** The default name of the attention-mask input. */
  public static final String DEFAULT_ATTENTION_MASK = "attention_mask";

  /** The default largest number of sequences per ONNX Runtime run. */
  public static final int DEFAULT_MAX_BATCH_ROWS = 64;

  private final OrtModelSession session;
  private final String inputIdsName;
  private final Optional<String> maskName;
  private final String outputName;
  private final int padTokenId;
  private final OptionalInt vocabularySize;
  private final int maxBatchRows;
  private final int label;
  private final boolean labelGiven;

  private OrtRewardModel(Builder b, OrtModelSession session) {
    this.session = session;
    this.padTokenId = b.padTokenId;
    this.vocabularySize = b.vocabularySize;
    this.maxBatchRows = b.maxBatchRows;
    this.label = b.label.orElse(0);
    this.labelGiven = b.label.isPresent();
    String model = session.modelName();
    this.inputIdsName = b.inputIdsName;
    Checks.checkArgument(
        session.inputNames().contains(inputIdsName),
        "Expected token-id input '%s' in reward model '%s', found inputs %s",
        inputIdsName,
        model,
        session.inputNames());
    if (b.maskName.isPresent()) {
      Checks.checkArgument(
          session.inputNames().contains(b.maskName.get()),
          "Expected attention-mask input '%s' in reward model '%s', found inputs %s",
          b.maskName.get(),
          model,
          session.inputNames());
      this.maskName = b.maskName;
    } else if (b.maskDefault && session.inputNames().contains(DEFAULT_ATTENTION_MASK)) {
      this.maskName = Optional.of(DEFAULT_ATTENTION_MASK);
    } else {
      this.maskName = Optional.empty();
    }
    for (String input : session.inputNames()) {
      Checks.checkArgument(
          input.equals(inputIdsName) || maskName.map(input::equals).orElse(false),
          "Expected reward model '%s' to take only inputs '%s' and %s, found input '%s'",
          model,
          inputIdsName,
          maskName.map(n -> "'" + n + "'").orElse("no mask"),
          input);
    }
    if (b.outputName.isPresent()) {
      this.outputName = b.outputName.get();
      Checks.checkArgument(
          session.outputNames().contains(outputName),
          "Expected reward output '%s' in reward model '%s', found outputs %s",
          outputName,
          model,
          session.outputNames());
    } else {
      Checks.checkArgument(
          session.outputNames().size() == 1,
          "Expected one output in reward model '%s' (or a name set with optOutputName), found %s",
          model,
          session.outputNames());
      this.outputName = session.outputNames().get(0);
    }
    checkMetadata();
  }

  /**
   * Opens a reward model file with the default names and settings.
   *
   * @param model the {@code .onnx} file (external data beside it)
   * @return the open reward model; the caller closes it
   * @throws ModelLoadException when the file does not exist or ONNX Runtime cannot load it
   * @throws IllegalArgumentException when the model does not follow the graph contract
   */
  public static OrtRewardModel open(Path model) throws ModelLoadException {
    return builder(model).build();
  }

  /**
   * Starts a reward model over a file.
   *
   * @param model the {@code .onnx} file
   * @return the builder
   */
  public static Builder builder(Path model) {
    return new Builder(Objects.requireNonNull(model, "model"), null);
  }

  /**
   * Starts a reward model over an in-memory graph.
   *
   * @param graph the graph
   * @return the builder
   */
  public static Builder builder(Graph graph) {
    return new Builder(null, Objects.requireNonNull(graph, "graph"));
  }

  private void checkMetadata() {
    try {
      NodeInfo ids = session.unwrap().getInputInfo().get(inputIdsName);
      if (ids.getInfo() instanceof TensorInfo t) {
        Checks.checkArgument(
            t.type == OnnxJavaType.INT64,
            "Expected INT64 token-id input '%s' in reward model '%s', found %s",
            inputIdsName,
            session.modelName(),
            t.type);
      }
      NodeInfo out = session.unwrap().getOutputInfo().get(outputName);
      if (out.getInfo() instanceof TensorInfo t) {
        Checks.checkArgument(
            t.type == OnnxJavaType.FLOAT || t.type == OnnxJavaType.DOUBLE,
            "Expected FLOAT or DOUBLE reward output '%s' in reward model '%s', found %s",
            outputName,
            session.modelName(),
            t.type);
        long[] shape = t.getShape();
        boolean ok =
            (shape.length == 1 && label == 0)
                || (shape.length == 2
                    && (shape[1] < 0 || label < shape[1])
                    && (labelGiven || shape[1] <= 1));
        if (!ok && shape.length == 2 && labelGiven) {
          throw new IllegalArgumentException(
              "Expected reward.label in [0, "
                  + shape[1]
                  + ") for output '"
                  + outputName
                  + "' of reward model '"
                  + session.modelName()
                  + "' (shape "
                  + formatShape(shape)
                  + "), found "
                  + label);
        }
        Checks.checkArgument(
            ok,
            "Expected reward output '%s' of shape [B] or [B, 1] (or [B, labels] with reward.label"
                + " choosing the column), found %s",
            outputName,
            formatShape(shape));
      }
    } catch (OrtException e) {
      throw OrtFailures.wrap(e, "read the metadata of reward model '" + session.modelName() + "'");
    }
  }

  /** Formats a metadata shape with the batch dimension as {@code B}, other dynamic ones as ?. */
  static String formatShape(long[] shape) {
    StringJoiner j = new StringJoiner(", ", "[", "]");
    for (int i = 0; i < shape.length; i++) {
      j.add(shape[i] >= 0 ? Long.toString(shape[i]) : i == 0 ? "B" : "?");
    }
    return j.toString();
  }

  /**
   * Scores {@code prompt ++ completion} of every generation.
   *
   * @param generations the generations, not empty
   * @return one score per generation, in order
   * @throws IllegalArgumentException when {@code generations} is empty, or a sequence is empty or
   *     holds a token outside the configured vocabulary
   * @throws IllegalStateException when the model is closed, or its output is not one score per
   *     sequence
   * @throws dev.jbond.BackendException when ONNX Runtime fails
   */
  @Override
  public double[] score(List<Generation> generations) {
    checkOpen();
    Checks.checkNotEmpty(generations, "generation");
    double[] scores = new double[generations.size()];
    for (int from = 0; from < generations.size(); from += maxBatchRows) {
      int to = Math.min(generations.size(), from + maxBatchRows);
      double[] chunk = scoreChunk(generations.subList(from, to), from);
      System.arraycopy(chunk, 0, scores, from, chunk.length);
    }
    return scores;
  }

  private double[] scoreChunk(List<Generation> chunk, int offset) {
    RewardBatch batch = RewardBatch.of(chunk, offset, padTokenId, vocabularySize);
    int rows = batch.rows();
    long[] shape = batch.shape();
    Map<String, Tensor> inputs = new LinkedHashMap<>();
    inputs.put(inputIdsName, Tensor.longs(shape, batch.ids()));
    maskName.ifPresent(name -> inputs.put(name, Tensor.longs(shape, batch.mask())));
    Tensor out = session.run(inputs, List.of(outputName)).get(outputName);
    long[] found = out.shape();
    int columns = found.length == 2 ? (int) found[1] : 1;
    boolean ok =
        (found.length == 1 && found[0] == rows && label == 0)
            || (found.length == 2
                && found[0] == rows
                && label < columns
                && (labelGiven || columns == 1));
    Checks.checkState(
        ok,
        "Expected reward output '%s' of shape [%d] or [%d, n > %d], found %s",
        outputName,
        rows,
        rows,
        label,
        Arrays.toString(found));
    double[] values;
    if (out.elementType() == ElementType.DOUBLE) {
      values = out.toDoubleArray();
    } else {
      float[] floats = out.toFloatArray();
      values = new double[floats.length];
      for (int i = 0; i < floats.length; i++) {
        values[i] = floats[i];
      }
    }
    double[] scores = new double[rows];
    for (int r = 0; r < rows; r++) {
      scores[r] = values[r * columns + label];
    }
    return scores;
  }

  /**
   * Returns the model's name in messages.
   *
   * @return the model name
   */
  public String modelName() {
    return session.modelName();
  }

  @Override
  protected void release() {
    session.close();
  }

  /** Returns the model name, the tensor names and the settings. */
  @Override
  public String toString() {
    return "OrtRewardModel[model="
        + session.modelName()
        + ", inputIds="
        + inputIdsName
        + ", attentionMask="
        + maskName.orElse("none")
        + ", output="
        + outputName
        + ", padTokenId="
        + padTokenId
        + ", vocabularySize="
        + (vocabularySize.isPresent() ? vocabularySize.getAsInt() : "unchecked")
        + ", maxBatchRows="
        + maxBatchRows
        + "]";
  }

  /** Settings of an {@link OrtRewardModel}; every setting is optional. */
  public static final class Builder {
    private final Path file;
    private final Graph graph;
    private String inputIdsName = DEFAULT_INPUT_IDS;
    private Optional<String> maskName = Optional.empty();
    private boolean maskDefault = true;
    private Optional<String> outputName = Optional.empty();
    private int padTokenId = 0;
    private OptionalInt vocabularySize = OptionalInt.empty();
    private int maxBatchRows = DEFAULT_MAX_BATCH_ROWS;
    private OptionalInt label = OptionalInt.empty();
    private SessionConfig sessionConfig = SessionConfig.defaults();

    private Builder(Path file, Graph graph) {
      this.file = file;
      this.graph = graph;
    }

    /**
     * Sets the token-id input's name (default {@value OrtRewardModel#DEFAULT_INPUT_IDS}).
     *
     * @param name the input name
     * @return this builder
     */
    public Builder optInputIdsName(String name) {
      this.inputIdsName = Objects.requireNonNull(name, "name");
      return this;
    }

    /**
     * Sets the attention-mask input's name, which the model must have (default: {@value
     * OrtRewardModel#DEFAULT_ATTENTION_MASK} when the model has that input, else no mask).
     *
     * @param name the input name
     * @return this builder
     */
    public Builder optAttentionMaskName(String name) {
      this.maskName = Optional.of(Objects.requireNonNull(name, "name"));
      return this;
    }

    /**
     * Feeds no attention mask; the model must then take the token ids only.
     *
     * @return this builder
     */
    public Builder optNoAttentionMask() {
      this.maskName = Optional.empty();
      this.maskDefault = false;
      return this;
    }

    /**
     * Sets the score output's name (default: the model's only output).
     *
     * @param name the output name
     * @return this builder
     */
    public Builder optOutputName(String name) {
      this.outputName = Optional.of(Objects.requireNonNull(name, "name"));
      return this;
    }

    /**
     * Sets the id written into padding positions (default 0; the mask marks them).
     *
     * @param id the pad id, {@code >= 0}
     * @return this builder
     */
    public Builder optPadTokenId(int id) {
      this.padTokenId = Checks.checkAtLeast(id, 0, "pad token id");
      return this;
    }

    /**
     * Checks every token against a vocabulary size before running (default: unchecked).
     *
     * @param size the vocabulary size, {@code >= 1}
     * @return this builder
     */
    public Builder optVocabularySize(int size) {
      this.vocabularySize = OptionalInt.of(Checks.checkAtLeast(size, 1, "vocabulary size"));
      return this;
    }

    /**
     * Sets the column of a {@code [B, labels]} output (a Hugging Face sequence classifier's {@code
     * logits}) that is the reward; a {@code [B]} or {@code [B, 1]} output takes label 0 (default
     * 0).
     *
     * @param label the column, {@code >= 0}
     * @return this builder
     */
    public Builder optLabel(int label) {
      this.label = OptionalInt.of(Checks.checkAtLeast(label, 0, "label"));
      return this;
    }

    /**
     * Sets the largest number of sequences per run (default {@value
     * OrtRewardModel#DEFAULT_MAX_BATCH_ROWS}).
     *
     * @param rows the row count, {@code >= 1}
     * @return this builder
     */
    public Builder optMaxBatchRows(int rows) {
      this.maxBatchRows = Checks.checkAtLeast(rows, 1, "max batch rows");
      return this;
    }

    /**
     * Sets the ONNX Runtime session settings (default {@link SessionConfig#defaults()}).
     *
     * @param config the settings
     * @return this builder
     */
    public Builder optSessionConfig(SessionConfig config) {
      this.sessionConfig = Objects.requireNonNull(config, "config");
      return this;
    }

    /**
     * Opens the session and checks the model against the graph contract.
     *
     * @return the reward model; the caller closes it
     * @throws ModelLoadException when the file does not exist or ONNX Runtime cannot load it
     * @throws IllegalArgumentException when the model does not follow the graph contract
     */
    public OrtRewardModel build() throws ModelLoadException {
      OrtModelSession session =
          file != null
              ? OrtSessions.open(file, sessionConfig)
              : OrtSessions.open(graph, sessionConfig);
      try {
        return new OrtRewardModel(this, session);
      } catch (RuntimeException e) {
        session.close();
        throw e;
      }
    }
  }
}
