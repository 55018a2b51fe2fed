package dev.jbond.serving;

import dev.jbond.BackendException;
import dev.jbond.Generation;
import dev.jbond.models.reward.RewardBatch;
import dev.jbond.serving.triton.TritonCallOptions;
import dev.jbond.serving.triton.TritonClient;
import dev.jbond.serving.triton.TritonDatatype;
import dev.jbond.serving.triton.TritonTensor;
import dev.jbond.serving.triton.TritonTensors;
import dev.jbond.serving.triton.proto.ModelInferRequest;
import dev.jbond.serving.triton.proto.ModelInferResponse;
import dev.jbond.serving.triton.proto.ModelMetadataResponse;
import dev.jbond.spi.RewardModel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A {@link RewardModel} served by Triton: scores over {@code ModelInfer} on any Triton-served
 * reward model, so the reward can live on the team's fleet. Requests go through the {@link
 * TritonClient} (its deadlines, retries on another endpoint and health-checked round robin; scoring
 * is idempotent), in chunks of at most {@link Builder#optMaxBatchRows} rows sent at once.
 *
 * <h2>The model contract</h2>
 *
 * <pre>
 *   input_ids        INT64 [B, T]        prompt ++ completion, right-padded with the pad id
 *   attention_mask   INT64 [B, T]        1 on real tokens, 0 on padding (unless turned off)
 *   score            FP32 or FP64 [B] or [B, 1]; or
 *   logits           FP32 or FP64 [B, labels] with {@link Builder#optLabel} choosing the column
 *                    (Hugging Face sequence classification)
 * </pre>
 *
 * Before its first request the model's metadata is read and the tensors checked (names, datatypes,
 * ranks, the label against the served number of labels); a mismatch is a one-line {@link
 * IllegalStateException} naming the tensor, the expected and the served type.
 */
public final class TritonRewardModel implements RewardModel {
  private final TritonClient client;
  private final String model;
  private final String inputIdsName;
  private final Optional<String> maskName;
  private final String outputName;
  private final int label;
  private final boolean labelGiven;
  private final int padTokenId;
  private final int maxBatchRows;
  private final Duration deadline;
  private final AtomicBoolean checked = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();

  private TritonRewardModel(Builder b) {
    this.client = b.client;
    this.model = b.model;
    this.inputIdsName = b.inputIdsName;
    this.maskName = b.maskName;
    this.outputName = b.outputName;
    this.label = b.label.orElse(0);
    this.labelGiven = b.label.isPresent();
    this.padTokenId = b.padTokenId;
    this.maxBatchRows = b.maxBatchRows;
    this.deadline = b.deadline;
  }

  /**
   * Returns a builder for a model served under {@code model}.
   *
   * @param client the client (the caller keeps ownership)
   * @param model the served model's name
   * @return the builder
   */
  public static Builder builder(TritonClient client, String model) {
    return new Builder(client, model);
  }

  /**
   * Scores {@code prompt ++ completion} of every generation.
   *
   * @param generations the generations, not empty
   * @return one score per generation, in order
   * @throws IllegalArgumentException when {@code generations} is empty or a sequence is empty
   * @throws IllegalStateException when the model is closed, its tensors do not fit, or its answer
   *     is not one score per sequence
   * @throws BackendException when a request fails after the client's retries
   */
  @Override
  public double[] score(List<Generation> generations) {
    Objects.requireNonNull(generations, "generations");
    if (generations.isEmpty()) {
      throw new IllegalArgumentException("Expected at least one generation to score, found none");
    }
    if (closed.get()) {
      throw new IllegalStateException("TritonRewardModel is closed");
    }
    TritonCallOptions call =
        TritonCallOptions.defaults().withDeadline(deadline).withIdempotent(true);
    if (!checked.get()) {
      checkServedTensors(call);
      checked.set(true);
    }
    List<CompletableFuture<ModelInferResponse>> answers = new ArrayList<>();
    List<int[]> ranges = new ArrayList<>();
    for (int from = 0; from < generations.size(); from += maxBatchRows) {
      int to = Math.min(generations.size(), from + maxBatchRows);
      answers.add(client.modelInfer(request(generations.subList(from, to), from), call));
      ranges.add(new int[] {from, to});
    }
    double[] scores = new double[generations.size()];
    for (int c = 0; c < answers.size(); c++) {
      int from = ranges.get(c)[0];
      int rows = ranges.get(c)[1] - from;
      double[] chunk = read(await(answers.get(c)), rows);
      System.arraycopy(chunk, 0, scores, from, rows);
    }
    return scores;
  }

  private ModelInferRequest request(List<Generation> chunk, int offset) {
    RewardBatch batch = RewardBatch.of(chunk, offset, padTokenId, OptionalInt.empty());
    long[] shape = batch.shape();
    List<TritonTensor> inputs = new ArrayList<>();
    inputs.add(TritonTensor.ofInt64(inputIdsName, shape, batch.ids()));
    maskName.ifPresent(name -> inputs.add(TritonTensor.ofInt64(name, shape, batch.mask())));
    ModelInferRequest.Builder request = ModelInferRequest.newBuilder().setModelName(model);
    TritonTensors.setInputs(request, inputs);
    TritonTensors.setRequestedOutputs(request, List.of(outputName));
    return request.build();
  }

  private double[] read(ModelInferResponse response, int rows) {
    TritonTensor out = TritonTensors.outputs(response).get(outputName);
    if (out == null) {
      throw new IllegalStateException(
          "Expected output '" + outputName + "' from reward model '" + model + "', found none");
    }
    long[] shape = out.shape();
    int columns = shape.length == 2 ? (int) shape[1] : 1;
    boolean ok =
        shape.length >= 1
            && shape.length <= 2
            && shape[0] == rows
            && label < columns
            && (labelGiven || columns == 1);
    if (!ok) {
      throw new IllegalStateException(
          "Expected reward output '"
              + outputName
              + "' of model '"
              + model
              + "' of shape ["
              + rows
              + "] or ["
              + rows
              + ", n > "
              + label
              + "], found "
              + Arrays.toString(shape));
    }
    double[] values =
        out.datatype() == TritonDatatype.FP64 ? out.toDoubles() : toDoubles(out.toFloats());
    double[] scores = new double[rows];
    for (int r = 0; r < rows; r++) {
      scores[r] = values[r * columns + label];
    }
    return scores;
  }

  private static double[] toDoubles(float[] floats) {
    double[] d = new double[floats.length];
    for (int i = 0; i < floats.length; i++) {
      d[i] = floats[i];
    }
    return d;
  }

  private <T> T await(CompletableFuture<T> future) {
    return TritonFutures.await(
        future,
        "scoring with reward model '" + model + "'",
        "score with reward model '" + model + "'");
  }

  /** Checks the served tensors against what this model sends and reads. */
  private void checkServedTensors(TritonCallOptions call) {
    ModelMetadataResponse metadata = await(client.modelMetadata(model, "", call));
    List<String> inputs = new ArrayList<>(List.of(inputIdsName));
    maskName.ifPresent(inputs::add);
    for (String name : inputs) {
      ModelMetadataResponse.TensorMetadata t = find(metadata.getInputsList(), name, "input");
      if (!t.getDatatype().equals("INT64") || t.getShapeCount() != 2) {
        throw new IllegalStateException(
            "Expected input '"
                + name
                + "' of reward model '"
                + model
                + "' to be INT64 of rank 2, found "
                + t.getDatatype()
                + " of rank "
                + t.getShapeCount()
                + " (shape "
                + t.getShapeList()
                + ")");
      }
    }
    ModelMetadataResponse.TensorMetadata out =
        find(metadata.getOutputsList(), outputName, "output");
    boolean type = out.getDatatype().equals("FP32") || out.getDatatype().equals("FP64");
    int rank = out.getShapeCount();
    long columns = rank == 2 ? out.getShape(1) : 1;
    if (!type || rank < 1 || rank > 2) {
      throw new IllegalStateException(
          "Expected output '"
              + outputName
              + "' of reward model '"
              + model
              + "' to be FP32 or FP64 of rank 1 or 2, found "
              + out.getDatatype()
              + " of rank "
              + rank
              + " (shape "
              + out.getShapeList()
              + ")");
    }
    if (!labelGiven && columns > 1) {
      throw new IllegalStateException(
          "Expected reward.label to choose one of the "
              + columns
              + " columns of output '"
              + outputName
              + "' of reward model '"
              + model
              + "' (shape "
              + out.getShapeList()
              + "), found none");
    }
    if (columns >= 0 && label >= columns) {
      throw new IllegalStateException(
          "Expected reward.label in [0, "
              + columns
              + ") for output '"
              + outputName
              + "' of reward model '"
              + model
              + "' (shape "
              + out.getShapeList()
              + "), found "
              + label);
    }
  }

  private ModelMetadataResponse.TensorMetadata find(
      List<ModelMetadataResponse.TensorMetadata> tensors, String name, String kind) {
    for (ModelMetadataResponse.TensorMetadata t : tensors) {
      if (t.getName().equals(name)) {
        return t;
      }
    }
    throw new IllegalStateException(
        "Expected reward model '"
            + model
            + "' to have "
            + kind
            + " '"
            + name
            + "', found no such "
            + kind
            + " (it has: "
            + tensors.stream().map(ModelMetadataResponse.TensorMetadata::getName).toList()
            + ")");
  }

  /** Marks the model closed; the client stays open (the caller owns it). Idempotent. */
  @Override
  public void close() {
    closed.set(true);
  }

  @Override
  public String toString() {
    return "TritonRewardModel[" + model + "]";
  }

  /** Settings of a {@link TritonRewardModel}. */
  public static final class Builder {
    private final TritonClient client;
    private final String model;
    private String inputIdsName = "input_ids";
    private Optional<String> maskName = Optional.of("attention_mask");
    private String outputName = "score";
    private OptionalInt label = OptionalInt.empty();
    private int padTokenId;
    private int maxBatchRows = 64;
    private Duration deadline = Duration.ofSeconds(60);

    private Builder(TritonClient client, String model) {
      this.client = Objects.requireNonNull(client, "client");
      if (model == null || model.isEmpty()) {
        throw new IllegalArgumentException("Expected a reward model name, found none");
      }
      this.model = model;
    }

    /**
     * Sets the token-id input's name. Default: {@code input_ids}.
     *
     * @param name the name
     * @return this builder
     */
    public Builder optInputIdsName(String name) {
      this.inputIdsName = Objects.requireNonNull(name, "name");
      return this;
    }

    /**
     * Sets the attention-mask input's name, or none (empty). Default: {@code attention_mask}.
     *
     * @param name the name, or empty to send no mask
     * @return this builder
     */
    public Builder optAttentionMaskName(Optional<String> name) {
      this.maskName = Objects.requireNonNull(name, "name");
      return this;
    }

    /**
     * Sets the output's name: {@code score}, or {@code logits} of a sequence classifier. Default:
     * {@code score}.
     *
     * @param name the name
     * @return this builder
     */
    public Builder optOutputName(String name) {
      this.outputName = Objects.requireNonNull(name, "name");
      return this;
    }

    /**
     * Sets the column of a {@code [B, labels]} output that is the reward; required for an output of
     * more than one column. Default: none (a {@code [B]} or {@code [B, 1]} output).
     *
     * @param label the column, {@code >= 0}
     * @return this builder
     */
    public Builder optLabel(int label) {
      if (label < 0) {
        throw new IllegalArgumentException("Expected a label >= 0, found " + label);
      }
      this.label = OptionalInt.of(label);
      return this;
    }

    /**
     * Sets the id that pads rows to the longest sequence. Default: 0.
     *
     * @param id the pad id
     * @return this builder
     */
    public Builder optPadTokenId(int id) {
      this.padTokenId = id;
      return this;
    }

    /**
     * Sets the most rows per request. Default: 64.
     *
     * @param rows the rows, {@code >= 1}
     * @return this builder
     */
    public Builder optMaxBatchRows(int rows) {
      if (rows < 1) {
        throw new IllegalArgumentException("Expected max batch rows >= 1, found " + rows);
      }
      this.maxBatchRows = rows;
      return this;
    }

    /**
     * Sets the deadline of each request. Default: 60 s.
     *
     * @param deadline the deadline, positive
     * @return this builder
     */
    public Builder optDeadline(Duration deadline) {
      if (deadline.isNegative() || deadline.isZero()) {
        throw new IllegalArgumentException("Expected a positive deadline, found " + deadline);
      }
      this.deadline = deadline;
      return this;
    }

    /**
     * Creates the model (nothing is sent until the first {@link #score}).
     *
     * @return the model
     */
    public TritonRewardModel build() {
      return new TritonRewardModel(this);
    }
  }
}
