package dev.jbond.models.generate;

import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.models.decoder.DecoderBuilder;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.models.tokenizer.ByteTokenizer;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.ort.OrtModelSession;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * A small byte-level decoder with weights drawn far from GPT-2's scale, so that its next-token
 * distributions are peaked and differ between positions, and a reference that computes
 * log-probabilities and logits with the full-sequence graph.
 */
final class GenerateFixtures {
  /** The byte tokenizer's vocabulary and special tokens. */
  static final int VOCAB = ByteTokenizer.VOCABULARY_SIZE;

  static final int EOS = ByteTokenizer.EOS_ID;
  static final int PAD = ByteTokenizer.PAD_ID;

  private static final ByteTokenizer TOKENIZER = new ByteTokenizer();

  private GenerateFixtures() {}

  /** V=259, C=48, 2 layers, d=32, 4 heads; init std 0.3 (GPT-2: 0.02). */
  static DecoderConfig config(long seed) {
    return DecoderConfig.builder()
        .setVocabSize(VOCAB)
        .setContextLength(48)
        .setLayers(2)
        .setWidth(32)
        .setHeads(4)
        .setSeed(seed)
        .optInitStd(0.3)
        .build();
  }

  /** Writes the decoder seeded {@code seed} into {@code root}, with EOS and pad ids. */
  static ModelDirectory write(Path root, long seed) {
    try {
      return ModelDirectory.write(
          root, DecoderWeights.initialize(config(seed)), OptionalInt.of(EOS), OptionalInt.of(PAD));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Prompt prompt(String id, String text) {
    return new Prompt(id, TOKENIZER.encode(text));
  }

  /** Three prompts of different lengths (5, 12 and 1 tokens). */
  static List<Prompt> prompts() {
    return List.of(prompt("a", "Hello"), prompt("b", "The film was"), prompt("c", "I"));
  }

  /**
   * Returns the full-sequence graph's logits before every completion token of every sequence,
   * {@code [sequence][k][V]}, from one call over the right-padded {@code prompt ++ completion}
   * rows.
   */
  static double[][][] fullGraphLogits(OrtModelSession full, List<SampledSequence> sequences) {
    int batch = sequences.size();
    int width = 0;
    for (SampledSequence s : sequences) {
      width = Math.max(width, s.prompt().tokens().length() + s.completion().length());
    }
    long[] ids = new long[batch * width];
    long[] mask = new long[batch * width];
    for (int b = 0; b < batch; b++) {
      TokenSequence row = sequences.get(b).prompt().tokens().concat(sequences.get(b).completion());
      for (int s = 0; s < width; s++) {
        ids[b * width + s] = s < row.length() ? row.get(s) : PAD;
        mask[b * width + s] = s < row.length() ? 1 : 0;
      }
    }
    Map<String, Tensor> feed = new HashMap<>();
    feed.put(DecoderBuilder.INPUT_IDS, Tensor.longs(new long[] {batch, width}, ids));
    feed.put(DecoderBuilder.ATTENTION_MASK, Tensor.longs(new long[] {batch, width}, mask));
    float[] logits = full.run(feed).get(DecoderBuilder.LOGITS).toFloatArray();
    double[][][] out = new double[batch][][];
    for (int b = 0; b < batch; b++) {
      SampledSequence s = sequences.get(b);
      int p = s.prompt().tokens().length();
      out[b] = new double[s.completion().length()][VOCAB];
      for (int k = 0; k < out[b].length; k++) {
        int offset = ((b * width) + p + k - 1) * VOCAB;
        for (int v = 0; v < VOCAB; v++) {
          out[b][k][v] = logits[offset + v];
        }
      }
    }
    return out;
  }

  /** The full graph's logits at the last token of {@code prompt}. */
  static double[] lastLogits(OrtModelSession full, Prompt prompt) {
    int width = prompt.tokens().length();
    long[] ids = new long[width];
    long[] mask = new long[width];
    for (int s = 0; s < width; s++) {
      ids[s] = prompt.tokens().get(s);
      mask[s] = 1;
    }
    Map<String, Tensor> feed = new HashMap<>();
    feed.put(DecoderBuilder.INPUT_IDS, Tensor.longs(new long[] {1, width}, ids));
    feed.put(DecoderBuilder.ATTENTION_MASK, Tensor.longs(new long[] {1, width}, mask));
    float[] logits = full.run(feed).get(DecoderBuilder.LOGITS).toFloatArray();
    double[] last = new double[VOCAB];
    for (int v = 0; v < VOCAB; v++) {
      last[v] = logits[(width - 1) * VOCAB + v];
    }
    return last;
  }

  /** {@code log softmax(logits)}, in double. */
  static double[] logSoftmax(double[] logits) {
    double max = Double.NEGATIVE_INFINITY;
    for (double l : logits) {
      max = Math.max(max, l);
    }
    double sum = 0;
    for (double l : logits) {
      sum += Math.exp(l - max);
    }
    double[] out = new double[logits.length];
    for (int v = 0; v < logits.length; v++) {
      out[v] = logits[v] - max - Math.log(sum);
    }
    return out;
  }

  /**
   * The sampling distribution of {@link SamplingConfig}, written independently of {@link
   * TokenSampler}: temperature, then the top-k tokens by logit (ties to the smaller id), then the
   * smallest most-likely prefix whose probability reaches top-p, renormalised.
   */
  static double[] samplingDistribution(double[] logits, SamplingConfig config) {
    int vocab = logits.length;
    List<Integer> order = new ArrayList<>();
    for (int v = 0; v < vocab; v++) {
      order.add(v);
    }
    order.sort(
        Comparator.comparingDouble((Integer v) -> -logits[v]).thenComparingInt(Integer::intValue));
    int kept = config.topK() == 0 ? vocab : Math.min(config.topK(), vocab);
    double[] scaled = new double[vocab];
    for (int v = 0; v < vocab; v++) {
      scaled[v] = logits[v] / config.temperature();
    }
    double max = scaled[order.get(0)];
    double total = 0;
    for (int i = 0; i < kept; i++) {
      total += Math.exp(scaled[order.get(i)] - max);
    }
    int nucleus = 0;
    double mass = 0;
    while (nucleus < kept && (nucleus == 0 || mass < config.topP())) {
      mass += Math.exp(scaled[order.get(nucleus)] - max) / total;
      nucleus++;
    }
    double[] p = new double[vocab];
    double sum = 0;
    for (int i = 0; i < nucleus; i++) {
      int v = order.get(i);
      p[v] = Math.exp(scaled[v] - max);
      sum += p[v];
    }
    for (int v = 0; v < vocab; v++) {
      p[v] /= sum;
    }
    return p;
  }
}
