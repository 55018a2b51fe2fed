package dev.jbond.models.generate;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import dev.jbond.internal.Checks;
import dev.jbond.models.decoder.DecoderBuilder;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.onnx.ort.OrtModelSession;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;

/**
 * The sizes that {@link KvCacheSampler} needs from a KV-cache decode graph, whoever wrote the
 * graph: jbond's {@link DecoderBuilder#decodeGraph} or a GPT-2-style decoder exported from torch
 * with Hugging Face-like names.
 *
 * <p>The graph contract: inputs {@code input_ids} INT64 {@code [B, new]}, {@code attention_mask}
 * INT64 {@code [B, past + new]}, {@code position_ids} INT64 {@code [B, new]} and per layer {@code
 * i} {@code past_key_values.{i}.key} / {@code .value} FLOAT {@code [B, heads, past, headWidth]}
 * (nothing else); outputs {@code logits} FLOAT {@code [B, new, vocabSize]} and per layer {@code
 * present.{i}.key} / {@code .value} FLOAT {@code [B, heads, past + new, headWidth]}. The graph must
 * accept {@code past = 0} (empty tensors) on the first call.
 *
 * @param vocabSize the logits' last dimension, {@code >= 1}
 * @param contextLength the longest sequence (prompt plus completion) the model takes, {@code >= 1}
 * @param layers the number of cached layers, {@code >= 1}
 * @param heads the attention heads per layer, {@code >= 1}
 * @param headWidth the width of one head's key and value, {@code >= 1}
 */
public record DecodeGraphSpec(
    int vocabSize, int contextLength, int layers, int heads, int headWidth) {
  /**
   * Validates the sizes.
   *
   * @param vocabSize see the record description
   * @param contextLength see the record description
   * @param layers see the record description
   * @param heads see the record description
   * @param headWidth see the record description
   * @throws IllegalArgumentException when a size is below 1
   */
  public DecodeGraphSpec {
    Checks.checkAtLeast(vocabSize, 1, "vocabSize");
    Checks.checkAtLeast(contextLength, 1, "contextLength");
    Checks.checkAtLeast(layers, 1, "layers");
    Checks.checkAtLeast(heads, 1, "heads");
    Checks.checkAtLeast(headWidth, 1, "headWidth");
  }

  /**
   * Returns the sizes of a graph without a cache (a full-sequence graph), as one cache layer of one
   * head of width 1, which nothing reads.
   *
   * @param vocabSize the logits' last dimension
   * @param contextLength the longest sequence
   * @return the spec
   */
  static DecodeGraphSpec withoutCache(int vocabSize, int contextLength) {
    return new DecodeGraphSpec(vocabSize, contextLength, 1, 1, 1);
  }

  /**
   * Returns the sizes of jbond's decode graph of {@code config}.
   *
   * @param config the decoder configuration
   * @return the spec
   */
  public static DecodeGraphSpec of(DecoderConfig config) {
    Objects.requireNonNull(config, "config");
    return new DecodeGraphSpec(
        config.vocabSize(),
        config.contextLength(),
        config.layers(),
        config.heads(),
        config.headWidth());
  }

  /**
   * Reads the sizes from a decode graph's input and output metadata: the vocabulary from the last
   * dimension of {@code logits}, the layers from the {@code past_key_values.{i}.key} inputs ({@code
   * i = 0, 1, ...}), heads and head width from dimensions 1 and 3 of {@code past_key_values.0.key}.
   * The context length is not in the metadata (positions are an input), so the caller gives it.
   *
   * @param decodeSession a session over the decode graph; not closed
   * @param contextLength the longest sequence the model takes (its number of learned positions)
   * @return the spec
   * @throws IllegalArgumentException when the graph lacks the contract's inputs or outputs, or a
   *     size it needs is not a fixed positive dimension
   * @throws IllegalStateException when the session is closed
   */
  public static DecodeGraphSpec read(OrtModelSession decodeSession, int contextLength) {
    Objects.requireNonNull(decodeSession, "decodeSession");
    String model = decodeSession.modelName();
    int layers = 0;
    while (decodeSession.inputNames().contains(DecoderBuilder.pastKey(layers))) {
      layers++;
    }
    Checks.checkArgument(
        layers >= 1,
        "Expected decode graph input '%s' in model '%s', found %s",
        DecoderBuilder.pastKey(0),
        model,
        decodeSession.inputNames());
    Checks.checkArgument(
        decodeSession.outputNames().contains(DecoderBuilder.LOGITS),
        "Expected decode graph output '%s' in model '%s', found %s",
        DecoderBuilder.LOGITS,
        model,
        decodeSession.outputNames());
    Map<String, NodeInfo> inputs;
    Map<String, NodeInfo> outputs;
    try {
      inputs = decodeSession.unwrap().getInputInfo();
      outputs = decodeSession.unwrap().getOutputInfo();
    } catch (OrtException e) {
      throw OrtCalls.wrap(e, "read the inputs and outputs of model '" + model + "'");
    }
    long[] past = shape(inputs.get(DecoderBuilder.pastKey(0)), DecoderBuilder.pastKey(0), model);
    long[] logits = shape(outputs.get(DecoderBuilder.LOGITS), DecoderBuilder.LOGITS, model);
    Checks.checkArgument(
        past.length == 4 && past[1] >= 1 && past[3] >= 1,
        "Expected '%s' [batch, heads, past, head width] with fixed heads and head width in model"
            + " '%s', found %s",
        DecoderBuilder.pastKey(0),
        model,
        Arrays.toString(past));
    Checks.checkArgument(
        logits.length == 3 && logits[2] >= 1,
        "Expected '%s' [batch, new, vocabulary] with a fixed vocabulary in model '%s', found %s",
        DecoderBuilder.LOGITS,
        model,
        Arrays.toString(logits));
    return new DecodeGraphSpec(
        Math.toIntExact(logits[2]),
        contextLength,
        layers,
        Math.toIntExact(past[1]),
        Math.toIntExact(past[3]));
  }

  private static long[] shape(NodeInfo info, String name, String model) {
    Checks.checkArgument(
        info != null && info.getInfo() instanceof TensorInfo,
        "Expected tensor '%s' in model '%s', found %s",
        name,
        model,
        info);
    return ((TensorInfo) info.getInfo()).getShape();
  }

  /**
   * Returns the residual width, {@code heads * headWidth}.
   *
   * @return the width
   */
  public int width() {
    return heads * headWidth;
  }

  /**
   * Returns a decoder configuration with these sizes ({@code width = heads * headWidth}) and {@link
   * DecoderConfig}'s defaults for everything else (seed 0). Only the sizes describe the graph.
   *
   * @return the configuration
   */
  public DecoderConfig toDecoderConfig() {
    return DecoderConfig.builder()
        .setVocabSize(vocabSize)
        .setContextLength(contextLength)
        .setLayers(layers)
        .setWidth(width())
        .setHeads(heads)
        .setSeed(0)
        .build();
  }
}
