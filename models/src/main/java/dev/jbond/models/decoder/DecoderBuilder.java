package dev.jbond.models.decoder;

import dev.jbond.onnx.graph.Dim;
import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Ops;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.graph.TensorType;
import dev.jbond.onnx.graph.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Emits the two ONNX graphs of a decoder over one set of {@link DecoderWeights}: every parameter is
 * a FLOAT initializer named as in {@link DecoderConfig#parameterShapes()}, and no other initializer
 * exists (constants are {@code Constant} nodes), so a graph's float initializers are exactly its
 * trainable parameters. The maths is {@link DecoderConfig}'s.
 *
 * <h2>Full-sequence graph ({@link #fullGraph}), for training and log-probs</h2>
 *
 * <ul>
 *   <li>inputs {@value #INPUT_IDS} INT64 {@code [batch, sequence]} and {@value #ATTENTION_MASK}
 *       INT64 {@code [batch, sequence]} (1 = real token, 0 = padding);
 *   <li>output {@value #LOGITS} FLOAT {@code [batch, sequence, V]}.
 * </ul>
 *
 * Positions are {@code 0 .. sequence-1} in every row, so batches are right-padded: a row's real
 * tokens come first. Its logits at real tokens do not depend on the padding after them.
 *
 * <h2>Decode graph ({@link #decodeGraph}), with a key/value cache</h2>
 *
 * <ul>
 *   <li>inputs {@value #INPUT_IDS} INT64 {@code [batch, new]}, {@value #ATTENTION_MASK} INT64
 *       {@code [batch, past + new]} (the mask of the cached and the new tokens), {@value
 *       #POSITION_IDS} INT64 {@code [batch, new]} (each token's position, {@code < C}), and for
 *       every layer {@code i} {@code past_key_values.{i}.key} and {@code past_key_values.{i}.value}
 *       FLOAT {@code [batch, H, past, d / H]}; {@code past} may be 0 (empty tensors);
 *   <li>outputs {@value #LOGITS} FLOAT {@code [batch, new, V]} and for every layer {@code
 *       present.{i}.key} and {@code present.{i}.value} FLOAT {@code [batch, H, past + new, d / H]}:
 *       the past with the new tokens' keys and values appended, to feed back as the next call's
 *       past.
 * </ul>
 *
 * Explicit positions allow left-padded batches: pad on the left with mask 0, and count each row's
 * positions from its first real token.
 *
 * <h2>Attention masking (both graphs)</h2>
 *
 * The full graph is the decode graph with an empty past and positions {@code 0 .. sequence-1}. The
 * {@code j}-th new token sits at cache slot {@code past + j} and attends to slot {@code k} iff
 * {@code k <= past + j} (causal) and {@code attention_mask[b, k] = 1} (padding); disallowed scores
 * get an additive {@code -1e9} before the softmax, so their weight is exactly 0 in float whenever
 * one slot is allowed, and a row with none allowed (a padding query) stays finite.
 */
public final class DecoderBuilder {
  /** The token-id input of both graphs. */
  public static final String INPUT_IDS = "input_ids";

  /** The attention-mask input of both graphs. */
  public static final String ATTENTION_MASK = "attention_mask";

  /** The position-id input of the decode graph. */
  public static final String POSITION_IDS = "position_ids";

  /** The logits output of both graphs. */
  public static final String LOGITS = "logits";

  /** The additive bias of disallowed attention scores. */
  public static final float MASKED_SCORE = -1e9f;

  private DecoderBuilder() {}

  /**
   * Returns the name of the decode graph's past-key input of one layer.
   *
   * @param layer the layer, from 0
   * @return {@code past_key_values.{layer}.key}
   */
  public static String pastKey(int layer) {
    return "past_key_values." + layer + ".key";
  }

  /**
   * Returns the name of the decode graph's past-value input of one layer.
   *
   * @param layer the layer, from 0
   * @return {@code past_key_values.{layer}.value}
   */
  public static String pastValue(int layer) {
    return "past_key_values." + layer + ".value";
  }

  /**
   * Returns the name of the decode graph's present-key output of one layer.
   *
   * @param layer the layer, from 0
   * @return {@code present.{layer}.key}
   */
  public static String presentKey(int layer) {
    return "present." + layer + ".key";
  }

  /**
   * Returns the name of the decode graph's present-value output of one layer.
   *
   * @param layer the layer, from 0
   * @return {@code present.{layer}.value}
   */
  public static String presentValue(int layer) {
    return "present." + layer + ".value";
  }

  /**
   * Emits the full-sequence graph (see the class description), named {@code decoder}.
   *
   * @param weights the parameters, which become the graph's initializers
   * @return a new graph at the configuration's opset
   */
  public static Graph fullGraph(DecoderWeights weights) {
    Emitter e = new Emitter("decoder", weights);
    Graph g = e.graph;
    Value ids = g.addInput(INPUT_IDS, ids("batch", "sequence"));
    Value mask = g.addInput(ATTENTION_MASK, ids("batch", "sequence"));
    e.addParameters();
    Value length = e.axisLength(ids, 1);
    Value positions = g.ops().unsqueeze(g.op("Range", e.longScalar(0), length, e.longScalar(1)), 0);
    Value logits = e.body(ids, positions, mask, null, null);
    g.addOutput(logits, logitsType(weights.config(), "sequence"));
    return g;
  }

  /**
   * Emits the decode graph with a key/value cache (see the class description), named {@code
   * decoder_decode}.
   *
   * @param weights the parameters, which become the graph's initializers
   * @return a new graph at the configuration's opset
   */
  public static Graph decodeGraph(DecoderWeights weights) {
    DecoderConfig config = weights.config();
    Emitter e = new Emitter("decoder_decode", weights);
    Graph g = e.graph;
    Value ids = g.addInput(INPUT_IDS, ids("batch", "new_sequence"));
    Value mask = g.addInput(ATTENTION_MASK, ids("batch", "total_sequence"));
    Value positions = g.addInput(POSITION_IDS, ids("batch", "new_sequence"));
    List<Value> pastKeys = new ArrayList<>();
    List<Value> pastValues = new ArrayList<>();
    for (int i = 0; i < config.layers(); i++) {
      pastKeys.add(g.addInput(pastKey(i), cacheType(config, "past_sequence")));
      pastValues.add(g.addInput(pastValue(i), cacheType(config, "past_sequence")));
    }
    e.addParameters();
    Value logits = e.body(ids, positions, mask, pastKeys, pastValues);
    g.addOutput(logits, logitsType(config, "new_sequence"));
    for (int i = 0; i < config.layers(); i++) {
      g.addOutput(g.value(presentKey(i)), cacheType(config, "total_sequence"));
      g.addOutput(g.value(presentValue(i)), cacheType(config, "total_sequence"));
    }
    return g;
  }

  private static TensorType ids(String batch, String sequence) {
    return TensorType.of(ElementType.INT64, Dim.symbolic(batch), Dim.symbolic(sequence));
  }

  private static TensorType logitsType(DecoderConfig config, String sequence) {
    return TensorType.of(
        ElementType.FLOAT,
        Dim.symbolic("batch"),
        Dim.symbolic(sequence),
        Dim.of(config.vocabSize()));
  }

  private static TensorType cacheType(DecoderConfig config, String sequence) {
    return TensorType.of(
        ElementType.FLOAT,
        Dim.symbolic("batch"),
        Dim.of(config.heads()),
        Dim.symbolic(sequence),
        Dim.of(config.headWidth()));
  }

  /** Emits the nodes of one graph. */
  private static final class Emitter {
    private final Graph graph;
    private final Ops ops;
    private final DecoderWeights weights;
    private final DecoderConfig config;
    private final Map<String, Value> params = new HashMap<>();
    private final Map<Float, Value> floats = new HashMap<>();
    private final Map<Long, Value> longs = new HashMap<>();

    Emitter(String name, DecoderWeights weights) {
      this.weights = Objects.requireNonNull(weights, "weights");
      this.config = weights.config();
      this.graph = Graph.create(name, config.opset());
      this.ops = graph.ops();
    }

    void addParameters() {
      weights
          .tensors()
          .forEach((name, tensor) -> params.put(name, graph.addInitializer(name, tensor)));
    }

    Value param(String name) {
      return params.get(name);
    }

    Value floatScalar(float value) {
      return floats.computeIfAbsent(value, v -> graph.constant(Tensor.floatScalar(v)));
    }

    Value longScalar(long value) {
      return longs.computeIfAbsent(value, v -> graph.constant(Tensor.longScalar(v)));
    }

    /** The size of {@code x} along {@code axis}, as an INT64 scalar. */
    Value axisLength(Value x, long axis) {
      return ops.gather(ops.shape(x), longScalar(axis), 0);
    }

    /**
     * Emits embeddings, blocks and head; returns the logits. With a past, also emits the {@code
     * present.*} values (not yet graph outputs).
     */
    Value body(
        Value ids, Value positions, Value mask, List<Value> pastKeys, List<Value> pastValues) {
      Value x =
          ops.add(
              ops.gather(param("wte.weight"), ids, 0),
              ops.gather(param("wpe.weight"), positions, 0));
      Value bias = attentionBias(ids, mask);
      for (int i = 0; i < config.layers(); i++) {
        String p = "h." + i + ".";
        Value h = layerNorm(x, p + "ln_1");
        Value attended =
            attention(
                h,
                bias,
                i,
                pastKeys == null ? null : pastKeys.get(i),
                pastValues == null ? null : pastValues.get(i));
        x = ops.add(x, linear(attended, p + "attn.c_proj"));
        Value hidden = gelu(linear(layerNorm(x, p + "ln_2"), p + "mlp.c_fc"));
        x = ops.add(x, linear(hidden, p + "mlp.c_proj"));
      }
      Value out = layerNorm(x, "ln_f");
      Value head = param(config.tiedEmbeddings() ? "wte.weight" : "lm_head.weight");
      return graph.node("MatMul").inputs(out, ops.transpose(head, 1, 0)).output(LOGITS);
    }

    /**
     * The additive attention bias {@code [batch, 1, new, total]}: 0 where new token {@code j} may
     * attend to cache slot {@code k} ({@code k <= total - new + j} and the mask is 1), else {@link
     * #MASKED_SCORE}.
     */
    Value attentionBias(Value ids, Value mask) {
      Value fresh = axisLength(ids, 1);
      Value total = axisLength(mask, 1);
      Value one = longScalar(1);
      Value querySlots = graph.op("Range", ops.sub(total, fresh), total, one);
      Value keySlots = graph.op("Range", longScalar(0), total, one);
      Value causal = graph.op("LessOrEqual", keySlots, ops.unsqueeze(querySlots, 1));
      Value keep = ops.unsqueeze(ops.cast(mask, ElementType.BOOL), 1, 2);
      Value allowed = graph.op("And", causal, keep);
      return ops.where(allowed, floatScalar(0f), floatScalar(MASKED_SCORE));
    }

    Value attention(Value h, Value bias, int layer, Value pastKey, Value pastValue) {
      String p = "h." + layer + ".attn.";
      long d = config.width();
      List<Value> qkv = ops.split(linear(h, p + "c_attn"), 2, d, d, d);
      Value q = heads(qkv.get(0));
      Value k = heads(qkv.get(1));
      Value v = heads(qkv.get(2));
      if (pastKey != null) {
        k = graph.node("Concat").inputs(pastKey, k).intAttr("axis", 2).output(presentKey(layer));
        v =
            graph
                .node("Concat")
                .inputs(pastValue, v)
                .intAttr("axis", 2)
                .output(presentValue(layer));
      }
      Value scores =
          ops.div(
              ops.matMul(q, ops.transpose(k, 0, 1, 3, 2)),
              floatScalar((float) Math.sqrt(config.headWidth())));
      Value weights = ops.softmax(ops.add(scores, bias), -1);
      Value merged = ops.transpose(ops.matMul(weights, v), 0, 2, 1, 3);
      return ops.reshape(merged, 0, 0, d);
    }

    /** {@code [batch, n, d]} to {@code [batch, H, n, d / H]}. */
    Value heads(Value x) {
      return ops.transpose(ops.reshape(x, 0, 0, config.heads(), config.headWidth()), 0, 2, 1, 3);
    }

    Value linear(Value x, String prefix) {
      return ops.add(ops.matMul(x, param(prefix + ".weight")), param(prefix + ".bias"));
    }

    Value layerNorm(Value x, String prefix) {
      Value scale = param(prefix + ".weight");
      Value shift = param(prefix + ".bias");
      float epsilon = (float) config.layerNormEpsilon();
      if (config.opset() >= DecoderConfig.LAYER_NORMALIZATION_OPSET) {
        return graph
            .node("LayerNormalization")
            .inputs(x, scale, shift)
            .intAttr("axis", -1)
            .floatAttr("epsilon", epsilon)
            .output();
      }
      Value centred = ops.sub(x, ops.reduceMean(x, true, -1));
      Value variance = ops.reduceMean(ops.mul(centred, centred), true, -1);
      Value normalised = ops.div(centred, ops.sqrt(ops.add(variance, floatScalar(epsilon))));
      return ops.add(ops.mul(normalised, scale), shift);
    }

    /**
     * {@code GELU(x) = 0.5 x (1 + t(x))}, {@code t} the tanh approximation or {@code erf(x /
     * sqrt(2))}, emitted in the exact standard-op shapes that ONNX Runtime's graph optimiser fuses
     * into one node ({@code FastGelu} for tanh, {@code Gelu} for erf, which then also absorb the
     * preceding bias {@code Add}: {@code FastGelu} with a bias, {@code BiasGelu}). The tanh
     * argument is written {@code (1 + (0.044715 x) x) (sqrt(2 / pi) x)}, the same function as
     * {@code sqrt(2 / pi) (x + 0.044715 x^3)}, in the operand order that the fusion matches;
     * reordering these ops silently loses the fusion (10 ops a layer instead of 1), which
     * DecoderBuilderTest checks.
     */
    Value gelu(Value x) {
      Value half = ops.mul(x, floatScalar(0.5f));
      Value phi;
      if (config.gelu() == Gelu.TANH) {
        Value quadratic = ops.add(ops.mul(ops.mul(x, floatScalar(0.044715f)), x), floatScalar(1f));
        Value inner = ops.mul(quadratic, ops.mul(x, floatScalar((float) Math.sqrt(2.0 / Math.PI))));
        phi = ops.tanh(inner);
      } else {
        phi = graph.op("Erf", ops.div(x, floatScalar((float) Math.sqrt(2.0))));
      }
      return ops.mul(half, ops.add(floatScalar(1f), phi));
    }
  }
}
