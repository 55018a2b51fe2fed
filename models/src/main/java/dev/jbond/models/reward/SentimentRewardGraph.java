package dev.jbond.models.reward;

import dev.jbond.internal.Checks;
import dev.jbond.models.demo.SentimentLexicon;
import dev.jbond.onnx.graph.Dim;
import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Ops;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.graph.TensorType;
import dev.jbond.onnx.graph.Value;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Builds the demo reward model: a byte-level sentiment score that follows {@link
 * SentimentLexicon#score(String)}, as an ONNX graph of standard ops (Gather, Conv, Relu, MatMul),
 * so that what the reward prefers can be read off the text.
 *
 * <h2>Graph</h2>
 *
 * <pre>
 *   input_ids       INT64 [B, T]   byte tokens ({@link dev.jbond.models.tokenizer.ByteTokenizer})
 *   attention_mask  INT64 [B, T]
 *   score           FLOAT [B, 1]
 * </pre>
 *
 * <ol>
 *   <li>Letters: {@code X[b, c, t] = m[b, t] * [token (b, t) is letter c, case folded]}, 26
 *       channels; every other byte, special token and padding is all zeros (a word boundary).
 *   <li>Keyword detectors: one {@code Conv} with kernel width {@code 2P + 1} ({@code P = }{@value
 *       #HALF_WIDTH}) centred on an anchor position {@code t}, and {@code Relu}. A detector's
 *       kernel is the one-hot pattern of its phrase: weight 1 on each letter's channel at its
 *       offset, -1 on every channel at the boundary positions around the phrase (and at its inner
 *       spaces), and a bias of {@code -(letters - 1)}, so it outputs exactly 1 where the phrase
 *       occurs as whole words and 0 elsewhere. Sentiment words are anchored at their first letter;
 *       intensifiers ({@code "very"}), negations ({@code "not"}, {@code "never"}) and negated
 *       intensifiers ({@code "not very"}) are anchored at the first letter of the word that follows
 *       them.
 *   <li>Per anchor: {@code S(t) = sum_w s(w) D_w(t)}, {@code I(t) = sum_i (f_i - 1) D_i(t)}, {@code
 *       N(t) = sum_n D_n(t)}, one {@code MatMul} of the detectors with a fixed [F, 3] matrix.
 *   <li>{@code sentiment = sum_t S(t) (1 + I(t)) (1 + (NEGATION_FACTOR - 1) N(t))}: a sentiment
 *       word's score, times the factor of the intensifier right before it, times {@value
 *       SentimentLexicon#NEGATION_FACTOR} when "not" or "never" stands right before it or before
 *       that intensifier.
 *   <li>{@code score = sentiment + epsilon * mean_t(e[token])} over real tokens: a small smooth
 *       term ({@code epsilon = }{@value #EPSILON}, {@code e} uniform in [-1, 1] per token id, drawn
 *       from the seed) so that different texts with the same sentiment rarely tie.
 * </ol>
 *
 * <p>Differences from {@link SentimentLexicon#score}: the exclamation factor is not modelled, a
 * negation counts only right before the sentiment word or its intensifier (not anywhere in the
 * three words before it), and chains of intensifiers count only the last one. On the {@link
 * dev.jbond.models.demo.SyntheticCorpus} grammar these cases are rare or absent; the tests measure
 * the agreement.
 */
public final class SentimentRewardGraph {
  /** The name of the token-id input. */
  public static final String INPUT_IDS = "input_ids";

  /** The name of the attention-mask input. */
  public static final String ATTENTION_MASK = "attention_mask";

  /** The name of the score output, FLOAT [B, 1]. */
  public static final String SCORE = "score";

  /** The vocabulary of the byte tokenizer, the token ids the graph accepts. */
  public static final int VOCABULARY_SIZE = 259;

  /** Half the detector kernel width; phrases of up to this many bytes before the anchor fit. */
  public static final int HALF_WIDTH = 18;

  /** The weight of the smooth tie-breaking term. */
  public static final double EPSILON = 0.05;

  private static final int LETTERS = 26;
  private static final long OPSET = 17;

  private SentimentRewardGraph() {}

  /**
   * Builds the graph (see the class description).
   *
   * @param lexicon the words, scores, intensifier factors and negations to follow
   * @param seed the seed of the tie-breaking token values
   * @return the graph, named {@code sentiment_reward}
   * @throws IllegalArgumentException when a phrase does not fit the kernel
   */
  public static Graph build(SentimentLexicon lexicon, long seed) {
    List<float[][]> kernels = new ArrayList<>();
    List<Float> biases = new ArrayList<>();
    List<float[]> mix = new ArrayList<>();
    int width = 2 * HALF_WIDTH + 1;
    for (Map.Entry<String, Double> e : lexicon.scores().entrySet()) {
      addDetector(kernels, biases, e.getKey(), true);
      mix.add(new float[] {e.getValue().floatValue(), 0, 0});
    }
    for (Map.Entry<String, Double> e : lexicon.intensifiers().entrySet()) {
      addDetector(kernels, biases, e.getKey(), false);
      mix.add(new float[] {0, (float) (e.getValue() - 1), 0});
    }
    for (String negation : lexicon.negations().stream().sorted().toList()) {
      addDetector(kernels, biases, negation, false);
      mix.add(new float[] {0, 0, 1});
      for (String intensifier : lexicon.intensifiers().keySet()) {
        addDetector(kernels, biases, negation + " " + intensifier, false);
        mix.add(new float[] {0, 0, 1});
      }
    }
    int detectors = kernels.size();
    float[] w = new float[detectors * LETTERS * width];
    float[] b = new float[detectors];
    float[] m = new float[detectors * 3];
    for (int f = 0; f < detectors; f++) {
      for (int c = 0; c < LETTERS; c++) {
        for (int k = 0; k < width; k++) {
          w[(f * LETTERS + c) * width + k] = kernels.get(f)[c][k];
        }
      }
      b[f] = biases.get(f);
      System.arraycopy(mix.get(f), 0, m, f * 3, 3);
    }
    float[] letters = new float[VOCABULARY_SIZE * LETTERS];
    for (int c = 0; c < LETTERS; c++) {
      letters[('a' + c) * LETTERS + c] = 1;
      letters[('A' + c) * LETTERS + c] = 1;
    }
    SplittableRandom random = new SplittableRandom(seed);
    float[] values = new float[VOCABULARY_SIZE];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) (random.nextDouble() * 2 - 1);
    }

    Graph g = Graph.create("sentiment_reward", OPSET);
    Ops ops = g.ops();
    TensorType idsType = TensorType.of(ElementType.INT64, Dim.symbolic("B"), Dim.symbolic("T"));
    Value ids = g.addInput(INPUT_IDS, idsType);
    Value maskIds = g.addInput(ATTENTION_MASK, idsType);
    Value mask = ops.cast(maskIds, ElementType.FLOAT);
    Value letterTable =
        g.addInitializer(
            "letter_table", Tensor.floats(new long[] {VOCABULARY_SIZE, LETTERS}, letters));
    Value x = ops.mul(ops.gather(letterTable, ids, 0), ops.unsqueeze(mask, 2));
    Value xt = ops.transpose(x, 0, 2, 1);
    Value kernel =
        g.addInitializer(
            "detector_kernels", Tensor.floats(new long[] {detectors, LETTERS, width}, w));
    Value bias = g.addInitializer("detector_bias", Tensor.floats(new long[] {detectors}, b));
    Value conv =
        g.node("Conv")
            .inputs(xt, kernel, bias)
            .intsAttr("kernel_shape", width)
            .intsAttr("pads", HALF_WIDTH, HALF_WIDTH)
            .output();
    Value hits = g.op("Relu", conv);
    Value mixing = g.addInitializer("detector_mix", Tensor.floats(new long[] {detectors, 3}, m));
    Value perAnchor = ops.matMul(ops.transpose(hits, 0, 2, 1), mixing);
    List<Value> parts = ops.split(perAnchor, 2, 1, 1, 1);
    Value sentiment = ops.squeeze(parts.get(0), 2);
    Value intensity = ops.add(ops.squeeze(parts.get(1), 2), g.constantFloat(1f));
    Value negated =
        ops.add(
            ops.mul(
                ops.squeeze(parts.get(2), 2),
                g.constantFloat((float) (SentimentLexicon.NEGATION_FACTOR - 1))),
            g.constantFloat(1f));
    Value contributions = ops.mul(ops.mul(sentiment, intensity), negated);
    Value total = ops.reduceSum(contributions, false, 1);
    Value tokenValues =
        g.addInitializer("token_values", Tensor.floats(new long[] {VOCABULARY_SIZE}, values));
    Value smoothSum = ops.reduceSum(ops.mul(ops.gather(tokenValues, ids, 0), mask), false, 1);
    Value count = g.op("Max", ops.reduceSum(mask, false, 1), g.constantFloat(1f));
    Value smooth = ops.mul(ops.div(smoothSum, count), g.constantFloat((float) EPSILON));
    Value score = ops.unsqueeze(ops.add(total, smooth), 1);
    Value out = g.node("Identity").input(score).output(SCORE);
    g.addOutput(out, TensorType.of(ElementType.FLOAT, Dim.symbolic("B"), Dim.of(1)));
    return g;
  }

  /**
   * Adds one detector. A word is anchored at its first letter; a prefix phrase at the first letter
   * of the word after it.
   */
  private static void addDetector(
      List<float[][]> kernels, List<Float> biases, String phrase, boolean anchoredAtStart) {
    int width = 2 * HALF_WIDTH + 1;
    int length = phrase.length();
    // kernel offset k looks at input position anchor - HALF_WIDTH + k
    int first = anchoredAtStart ? HALF_WIDTH : HALF_WIDTH - 1 - length;
    Checks.checkArgument(
        first - 1 >= 0 && first + length < width,
        "Expected a lexicon phrase of at most %d bytes, found '%s' (%d bytes)",
        HALF_WIDTH - 2,
        phrase,
        length);
    float[][] kernel = new float[LETTERS][width];
    int letterCount = 0;
    boundary(kernel, first - 1);
    boundary(kernel, first + length);
    for (int i = 0; i < length; i++) {
      char ch = phrase.charAt(i);
      if (ch == ' ') {
        boundary(kernel, first + i);
      } else {
        Checks.checkArgument(
            ch >= 'a' && ch <= 'z', "Expected lower-case letters in '%s', found '%s'", phrase, ch);
        kernel[ch - 'a'][first + i] = 1;
        letterCount++;
      }
    }
    kernels.add(kernel);
    biases.add((float) -(letterCount - 1));
  }

  private static void boundary(float[][] kernel, int offset) {
    for (float[] channel : kernel) {
      channel[offset] = -1;
    }
  }
}
