package dev.jbond.models.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

class TokenSamplerTest {
  /** Logits of the probabilities [0.1, 0.2, 0.3, 0.4], shifted so the softmax must normalise. */
  private static final float[] QUARTER =
      logits(Math.log(0.1) + 3, Math.log(0.2) + 3, Math.log(0.3) + 3, Math.log(0.4) + 3);

  private static final double EPS = 1e-6;

  @Test
  void draw_temperature1_invertsTheCumulativeDistributionInIdOrder() {
    TokenSampler sampler = sampler(SamplingConfig.builder().setMaxNewTokens(1).build());

    assertToken(sampler, QUARTER, 0.05, 0, Math.log(0.1));
    assertToken(sampler, QUARTER, 0.25, 1, Math.log(0.2));
    assertToken(sampler, QUARTER, 0.55, 2, Math.log(0.3));
    assertToken(sampler, QUARTER, 0.95, 3, Math.log(0.4));
    assertEquals(Math.log(0.4), sampler.modelLogProb, EPS);
  }

  @Test
  void draw_temperatureHalf_squaresTheProbabilities() {
    TokenSampler sampler =
        sampler(SamplingConfig.builder().setMaxNewTokens(1).optTemperature(0.5).build());

    assertToken(sampler, QUARTER, 0.99, 3, Math.log(0.16 / 0.30));
    assertEquals(Math.log(0.4), sampler.modelLogProb, EPS, "the model's log-prob is untempered");
  }

  @Test
  void draw_topK2_keepsTheTwoLargestInDescendingOrder() {
    TokenSampler sampler = sampler(SamplingConfig.builder().setMaxNewTokens(1).optTopK(2).build());

    assertToken(sampler, QUARTER, 0.1, 3, Math.log(0.4 / 0.7));
    assertToken(sampler, QUARTER, 0.9, 2, Math.log(0.3 / 0.7));
    assertToken(sampler, QUARTER, 0.999999, 2, Math.log(0.3 / 0.7));
  }

  @Test
  void draw_topKTie_keepsTheSmallerId() {
    TokenSampler sampler = sampler(SamplingConfig.builder().setMaxNewTokens(1).optTopK(1).build());

    assertToken(sampler, logits(0, 5, 1, 5), 0.99, 1, 0);
  }

  @Test
  void draw_topP_keepsTheSmallestPrefixReachingP() {
    TokenSampler nucleus =
        sampler(SamplingConfig.builder().setMaxNewTokens(1).optTopP(0.6).build());
    TokenSampler single =
        sampler(SamplingConfig.builder().setMaxNewTokens(1).optTopP(0.35).build());

    assertToken(nucleus, QUARTER, 0.99, 2, Math.log(0.3 / 0.7));
    assertToken(nucleus, QUARTER, 0.0, 3, Math.log(0.4 / 0.7));
    assertToken(single, QUARTER, 0.99, 3, 0);
  }

  @Test
  void draw_greedy_takesTheSmallestArgmaxWithProbabilityOne() {
    TokenSampler sampler =
        sampler(SamplingConfig.builder().setMaxNewTokens(1).optTemperature(0).build());

    assertToken(sampler, logits(1, 3, 3, 2), 0.5, 1, 0);
    double normaliser = Math.log(Math.exp(1) + 2 * Math.exp(3) + Math.exp(2));
    assertEquals(3 - normaliser, sampler.modelLogProb, EPS);
  }

  @Test
  void draw_nonFiniteLogits_drawsNothing() {
    TokenSampler sampler = sampler(SamplingConfig.builder().setMaxNewTokens(1).build());

    assertFalse(sampler.draw(FloatBuffer.wrap(logits(0, Double.NaN, 1, 2)), 0, fixed(0.5)));
    assertFalse(
        sampler.draw(FloatBuffer.wrap(logits(0, Double.POSITIVE_INFINITY, 1, 2)), 0, fixed(0.5)));
  }

  @Test
  void draw_offset_readsTheRowAtTheOffset() {
    TokenSampler sampler =
        sampler(SamplingConfig.builder().setMaxNewTokens(1).optTemperature(0).build());
    float[] rows = new float[8];
    System.arraycopy(logits(9, 0, 0, 0), 0, rows, 0, 4);
    System.arraycopy(logits(0, 0, 9, 0), 0, rows, 4, 4);

    assertTrue(sampler.draw(FloatBuffer.wrap(rows), 4, fixed(0)));
    assertEquals(2, sampler.token);
  }

  @Test
  void draw_topKAndTopPOnALargeVocabularyWithTies_matchReferenceDistribution() {
    SplittableRandom random = new SplittableRandom(4);
    double[] values = new double[1000];
    for (int v = 0; v < values.length; v++) {
      values[v] = (float) (Math.round(random.nextGaussian() * 20) / 10.0);
    }
    SamplingConfig config =
        SamplingConfig.builder()
            .setMaxNewTokens(1)
            .optTemperature(0.8)
            .optTopK(37)
            .optTopP(0.9)
            .build();
    double[] expected = GenerateFixtures.samplingDistribution(values, config);
    TokenSampler sampler = new TokenSampler(config, values.length);
    FloatBuffer logits = FloatBuffer.wrap(logits(values));

    Set<Integer> drawn = new HashSet<>();
    for (int i = 0; i < 500; i++) {
      assertTrue(sampler.draw(logits, 0, fixed((i + 0.5) / 500)));
      assertTrue(expected[sampler.token] > 0, "token " + sampler.token + " is not kept");
      assertEquals(Math.log(expected[sampler.token]), sampler.samplingLogProb, 1e-9);
      drawn.add(sampler.token);
    }
    long kept = Arrays.stream(expected).filter(p -> p > 0).count();
    assertEquals(kept, drawn.size(), "every kept token is drawn by some u");
  }

  private static TokenSampler sampler(SamplingConfig config) {
    return new TokenSampler(config, 4);
  }

  private static void assertToken(
      TokenSampler sampler, float[] logits, double u, int token, double samplingLogProb) {
    assertTrue(sampler.draw(FloatBuffer.wrap(logits), 0, fixed(u)));
    assertEquals(token, sampler.token, "token at u = " + u);
    assertEquals(samplingLogProb, sampler.samplingLogProb, EPS, "sampling log-prob at u = " + u);
  }

  private static float[] logits(double... values) {
    float[] out = new float[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (float) values[i];
    }
    return out;
  }

  /** A generator whose every {@code nextDouble()} is {@code u}. */
  private static RandomGenerator fixed(double u) {
    return new RandomGenerator() {
      @Override
      public long nextLong() {
        throw new UnsupportedOperationException("only nextDouble() is used");
      }

      @Override
      public double nextDouble() {
        return u;
      }
    };
  }
}
