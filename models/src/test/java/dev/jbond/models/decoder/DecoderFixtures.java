package dev.jbond.models.decoder;

import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Shape;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.ort.OrtModelSession;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Tiny decoders, random weights large enough that attention and masking visibly matter, and drivers
 * that run the full-sequence graph (right padding) and the decode graph (left padding, explicit
 * positions, a key/value cache fed back chunk by chunk) and return the logits of the real tokens
 * only.
 */
final class DecoderFixtures {
  private DecoderFixtures() {}

  /** A 2-layer decoder: V=37, C=16, d=16, 4 heads. */
  static DecoderConfig tiny(int opset, boolean tied, Gelu gelu) {
    return DecoderConfig.builder()
        .setVocabSize(37)
        .setContextLength(16)
        .setLayers(2)
        .setWidth(16)
        .setHeads(4)
        .setSeed(5)
        .optOpset(opset)
        .optTiedEmbeddings(tied)
        .optGelu(gelu)
        .build();
  }

  /**
   * Weights far from GPT-2's initialisation: matrices uniform in [-0.5, 0.5), LayerNorm scales in
   * [0.5, 1.5), biases in [-0.2, 0.2), so that attention patterns, masks and every parameter show
   * in the logits.
   */
  static DecoderWeights randomWeights(DecoderConfig config, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (Map.Entry<String, Shape> entry : config.parameterShapes().entrySet()) {
      String name = entry.getKey();
      float[] values = new float[Math.toIntExact(entry.getValue().elementCount())];
      boolean scale = name.endsWith(".weight") && (name.startsWith("ln_") || name.contains(".ln_"));
      for (int i = 0; i < values.length; i++) {
        double u = random.nextDouble();
        values[i] = (float) (scale ? 0.5 + u : name.endsWith(".bias") ? 0.4 * u - 0.2 : u - 0.5);
      }
      tensors.put(name, Tensor.floats(entry.getValue().toArray(), values));
    }
    return DecoderWeights.of(config, tensors);
  }

  /** Random token sequences of the given lengths. */
  static long[][] tokens(DecoderConfig config, long seed, int... lengths) {
    SplittableRandom random = new SplittableRandom(seed);
    long[][] rows = new long[lengths.length][];
    for (int b = 0; b < lengths.length; b++) {
      rows[b] = random.longs(lengths[b], 0, config.vocabSize()).toArray();
    }
    return rows;
  }

  /**
   * Runs the full-sequence graph on right-padded rows (padding id {@code vocab - 1}, mask 0).
   *
   * @return [row][real token][vocab]
   */
  static float[][][] full(OrtModelSession session, DecoderConfig config, long[][] rows) {
    int batch = rows.length;
    int steps = maxLength(rows);
    long[] ids = new long[batch * steps];
    long[] mask = new long[batch * steps];
    for (int b = 0; b < batch; b++) {
      for (int s = 0; s < steps; s++) {
        boolean real = s < rows[b].length;
        ids[b * steps + s] = real ? rows[b][s] : config.vocabSize() - 1;
        mask[b * steps + s] = real ? 1 : 0;
      }
    }
    Map<String, Tensor> feed = new HashMap<>();
    feed.put(DecoderBuilder.INPUT_IDS, Tensor.longs(new long[] {batch, steps}, ids));
    feed.put(DecoderBuilder.ATTENTION_MASK, Tensor.longs(new long[] {batch, steps}, mask));
    float[] logits = session.run(feed).get(DecoderBuilder.LOGITS).toFloatArray();
    int vocab = config.vocabSize();
    float[][][] out = new float[batch][][];
    for (int b = 0; b < batch; b++) {
      out[b] = new float[rows[b].length][vocab];
      for (int t = 0; t < rows[b].length; t++) {
        System.arraycopy(logits, (b * steps + t) * vocab, out[b][t], 0, vocab);
      }
    }
    return out;
  }

  /**
   * Runs the decode graph on left-padded rows (padding id {@code vocab - 1}, mask 0, position 0),
   * in calls of {@code chunks[i]} slots each (summing to the longest row), starting from an empty
   * past and feeding each call's {@code present.*} back as the next call's past.
   *
   * @return [row][real token][vocab]
   */
  static float[][][] decode(
      OrtModelSession session, DecoderConfig config, long[][] rows, int... chunks) {
    int batch = rows.length;
    int steps = maxLength(rows);
    int vocab = config.vocabSize();
    long[][] ids = new long[batch][steps];
    long[][] mask = new long[batch][steps];
    long[][] positions = new long[batch][steps];
    int[] pads = new int[batch];
    for (int b = 0; b < batch; b++) {
      pads[b] = steps - rows[b].length;
      for (int s = 0; s < steps; s++) {
        boolean real = s >= pads[b];
        ids[b][s] = real ? rows[b][s - pads[b]] : vocab - 1;
        mask[b][s] = real ? 1 : 0;
        positions[b][s] = real ? s - pads[b] : 0;
      }
    }
    Map<String, Tensor> past = new HashMap<>();
    for (int i = 0; i < config.layers(); i++) {
      Tensor empty = Tensor.zeros(ElementType.FLOAT, batch, config.heads(), 0, config.headWidth());
      past.put(DecoderBuilder.pastKey(i), empty);
      past.put(DecoderBuilder.pastValue(i), empty);
    }
    float[][][] out = new float[batch][][];
    for (int b = 0; b < batch; b++) {
      out[b] = new float[rows[b].length][];
    }
    int from = 0;
    for (int chunk : chunks) {
      int to = from + chunk;
      Map<String, Tensor> feed = new HashMap<>(past);
      feed.put(DecoderBuilder.INPUT_IDS, slice(ids, from, to));
      feed.put(DecoderBuilder.ATTENTION_MASK, slice(mask, 0, to));
      feed.put(DecoderBuilder.POSITION_IDS, slice(positions, from, to));
      Map<String, Tensor> result = session.run(feed);
      float[] logits = result.get(DecoderBuilder.LOGITS).toFloatArray();
      for (int b = 0; b < batch; b++) {
        for (int s = from; s < to; s++) {
          if (s >= pads[b]) {
            float[] row = new float[vocab];
            System.arraycopy(logits, (b * chunk + s - from) * vocab, row, 0, vocab);
            out[b][s - pads[b]] = row;
          }
        }
      }
      for (int i = 0; i < config.layers(); i++) {
        past.put(DecoderBuilder.pastKey(i), result.get(DecoderBuilder.presentKey(i)));
        past.put(DecoderBuilder.pastValue(i), result.get(DecoderBuilder.presentValue(i)));
      }
      from = to;
    }
    if (from != steps) {
      throw new IllegalArgumentException(
          "Expected chunks summing to " + steps + " slots, found " + from);
    }
    return out;
  }

  /** The largest absolute difference between two [row][token][vocab] arrays of equal shape. */
  static double maxAbsDiff(float[][][] a, float[][][] b) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      if (a[i].length != b[i].length) {
        throw new IllegalArgumentException(
            "Expected " + a[i].length + " tokens in row " + i + ", found " + b[i].length);
      }
      for (int t = 0; t < a[i].length; t++) {
        for (int v = 0; v < a[i][t].length; v++) {
          max = Math.max(max, Math.abs((double) a[i][t][v] - b[i][t][v]));
        }
      }
    }
    return max;
  }

  /** The largest absolute value. */
  static double maxAbs(float[][][] a) {
    double max = 0;
    for (float[][] row : a) {
      for (float[] token : row) {
        for (float v : token) {
          max = Math.max(max, Math.abs(v));
        }
      }
    }
    return max;
  }

  private static Tensor slice(long[][] values, int from, int to) {
    int batch = values.length;
    long[] out = new long[batch * (to - from)];
    for (int b = 0; b < batch; b++) {
      System.arraycopy(values[b], from, out, b * (to - from), to - from);
    }
    return Tensor.longs(new long[] {batch, to - from}, out);
  }

  private static int maxLength(long[][] rows) {
    int max = 0;
    for (long[] row : rows) {
      max = Math.max(max, row.length);
    }
    return max;
  }
}
