package dev.jbond.onnx.train;

import dev.jbond.Generation;
import dev.jbond.ModelVersion;
import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.onnx.graph.Dim;
import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.graph.TensorType;
import dev.jbond.onnx.graph.Value;
import dev.jbond.onnx.ort.SessionConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Small synthetic policies and sequences for the learner's tests. */
final class TinyPolicies {
  /** One intra-op thread keeps the tests deterministic and light on the build machine's cores. */
  static final SessionConfig SESSION = SessionConfig.builder().optIntraOpThreads(1).build();

  private TinyPolicies() {}

  /**
   * A bigram model: {@code logits[b, t] = table[input_ids[b, t]] + bias}, with {@code table} FLOAT
   * [V, V] and {@code bias} FLOAT [V] drawn from {@code seed}, and an unused {@code attention_mask}
   * input.
   *
   * @param vocabulary V
   * @param seed the seed of the weights
   * @param nanRow a row of {@code table} set to NaN, or -1 for none
   */
  static Graph bigram(int vocabulary, long seed, int nanRow) {
    Graph g = Graph.create("bigram", 17);
    TensorType tokens =
        TensorType.of(ElementType.INT64, Dim.symbolic("batch"), Dim.symbolic("sequence"));
    Value ids = g.addInput("input_ids", tokens);
    g.addInput("attention_mask", tokens);
    SplittableRandom random = new SplittableRandom(seed);
    float[] table = new float[vocabulary * vocabulary];
    for (int i = 0; i < table.length; i++) {
      table[i] = (float) random.nextGaussian();
      if (i / vocabulary == nanRow) {
        table[i] = Float.NaN;
      }
    }
    float[] bias = new float[vocabulary];
    for (int i = 0; i < vocabulary; i++) {
      bias[i] = (float) (0.1 * random.nextGaussian());
    }
    Value w = g.addInitializer("table", Tensor.floats(new long[] {vocabulary, vocabulary}, table));
    Value b = g.addInitializer("bias", Tensor.floats(new long[] {vocabulary}, bias));
    Value gathered = g.ops().gather(w, ids, 0);
    Value logits = g.node("Add").inputs(gathered, b).output("logits");
    g.addOutput(
        logits,
        TensorType.of(
            ElementType.FLOAT,
            Dim.symbolic("batch"),
            Dim.symbolic("sequence"),
            Dim.of(vocabulary)));
    return g;
  }

  /**
   * A generation of prompt {@code id} with the given tokens.
   *
   * @param id the prompt id
   * @param prompt the prompt tokens
   * @param completion the completion tokens
   */
  static Generation generation(String id, int[] prompt, int[] completion) {
    return Generation.of(
        new Prompt(id, TokenSequence.of(prompt)),
        TokenSequence.of(completion),
        new ModelVersion("test", 0));
  }

  /**
   * Random generations with prompt lengths in [1, 4] and completion lengths in [1, maxCompletion].
   *
   * @param count how many
   * @param vocabulary token ids are drawn from [0, vocabulary)
   * @param maxCompletion the longest completion
   * @param seed the seed
   */
  static List<Generation> randomGenerations(
      int count, int vocabulary, int maxCompletion, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    List<Generation> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int[] prompt = random.ints(1 + random.nextInt(4), 0, vocabulary).toArray();
      int[] completion = random.ints(1 + random.nextInt(maxCompletion), 0, vocabulary).toArray();
      out.add(generation("p" + i, prompt, completion));
    }
    return out;
  }
}
