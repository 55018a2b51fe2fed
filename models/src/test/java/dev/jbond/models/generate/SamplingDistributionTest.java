package dev.jbond.models.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.Prompt;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.onnx.ort.OrtModelSession;
import dev.jbond.onnx.ort.OrtSessions;
import dev.jbond.onnx.ort.SessionConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The acceptance test of issue 4 on sampling: the first-token frequencies of many seeded samples
 * match the softmax of the model's logits after the same temperature, top-k and top-p (Pearson's
 * chi-square at level 0.001), and tokens outside the kept set never occur.
 */
class SamplingDistributionTest {
  private static final int SAMPLES = 20_000;
  private static final double LEVEL = 0.001;

  @TempDir static Path dir;

  private static OrtModelSession decode;
  private static OrtModelSession full;
  private static KvCacheSampler sampler;

  @BeforeAll
  static void open() throws IOException {
    ModelDirectory model = GenerateFixtures.write(dir, 11);
    decode = OrtSessions.open(model.decodeGraph(), SessionConfig.defaults());
    full = OrtSessions.open(model.fullGraph(), SessionConfig.defaults());
    sampler = new KvCacheSampler(decode, model.config(), 5_000);
  }

  @AfterAll
  static void close() {
    decode.close();
    full.close();
  }

  static Stream<Arguments> configs() {
    return Stream.of(
        Arguments.of("temperature 1", oneToken().build()),
        Arguments.of("temperature 0.7", oneToken().optTemperature(0.7).build()),
        Arguments.of("top-k 5", oneToken().optTopK(5).build()),
        Arguments.of("top-p 0.8", oneToken().optTopP(0.8).build()),
        Arguments.of(
            "temperature 0.7, top-k 20, top-p 0.9",
            oneToken().optTemperature(0.7).optTopK(20).optTopP(0.9).build()));
  }

  private static SamplingConfig.Builder oneToken() {
    return SamplingConfig.builder().setMaxNewTokens(1);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("configs")
  void sample_firstTokenFrequencies_matchTheSamplingDistribution(
      String name, SamplingConfig config) {
    Prompt prompt = GenerateFixtures.prompt("a", "Hello");
    double[] expected =
        GenerateFixtures.samplingDistribution(GenerateFixtures.lastLogits(full, prompt), config);

    long[] observed = firstTokenCounts(prompt, config, 2026);

    int support = 0;
    for (int v = 0; v < expected.length; v++) {
      if (expected[v] == 0) {
        assertEquals(0, observed[v], "token " + v + " lies outside the kept set");
      } else {
        support++;
      }
    }
    ChiSquare.Result result = ChiSquare.test(observed, expected);
    System.out.printf(
        "SamplingDistributionTest %s: %d samples over %d kept tokens, %s%n",
        name, SAMPLES, support, result);
    assertTrue(result.pValue() > LEVEL, name + ": " + result);
  }

  @Test
  void sample_frequenciesAtTemperature07_rejectTheTemperature1Distribution() {
    Prompt prompt = GenerateFixtures.prompt("a", "Hello");
    SamplingConfig config = oneToken().optTemperature(0.7).build();
    double[] untempered =
        GenerateFixtures.samplingDistribution(
            GenerateFixtures.lastLogits(full, prompt),
            config.toBuilder().optTemperature(1).build());

    ChiSquare.Result result = ChiSquare.test(firstTokenCounts(prompt, config, 2026), untempered);

    assertTrue(result.pValue() < 1e-12, "the test has power: " + result);
  }

  @Test
  void chiSquare_tabulatedCriticalValues_haveLevel0001() {
    assertEquals(0.001, ChiSquare.upperRegularizedGamma(0.5, 10.828 / 2), 1e-5);
    assertEquals(0.001, ChiSquare.upperRegularizedGamma(5, 29.588 / 2), 1e-5);
    assertEquals(0.001, ChiSquare.upperRegularizedGamma(50, 149.449 / 2), 1e-5);
  }

  private static long[] firstTokenCounts(Prompt prompt, SamplingConfig config, long seed) {
    List<SampledSequence> samples = sampler.sample(List.of(prompt), SAMPLES, config, seed);
    long[] counts = new long[GenerateFixtures.VOCAB];
    for (SampledSequence s : samples) {
      counts[s.completion().get(0)]++;
    }
    return counts;
  }
}
