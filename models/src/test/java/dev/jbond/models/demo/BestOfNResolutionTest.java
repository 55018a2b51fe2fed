package dev.jbond.models.demo;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.Generation;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.models.generate.DirectSampler;
import dev.jbond.models.generate.SamplingConfig;
import dev.jbond.models.reward.OrtRewardModel;
import dev.jbond.models.tokenizer.ByteTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Acceptance: the committed demo reward has enough resolution for BOND. Best-of-N of the demo
 * reference policy (N = 1, 2, 4, 8, 16) reaches a mean reward quantile of N / (N + 1) against fresh
 * reference samples of the same prompt.
 *
 * <p>For each of {@value #PROMPTS} prompts: {@value #REFERENCES} reference samples (seed 1) give
 * the empirical mid-quantile {@code q(r) = (#{ref < r} + #{ref = r} / 2) / 128}; {@value #POOL}
 * further samples (seed 2) are cut into {@code POOL / N} disjoint groups of N, and the best of each
 * group is one Best-of-N draw. The bound: {@code |mean q - N / (N + 1)| <= 3 SE + 0.01}, with
 * {@code SE^2 = var(q) / draws + mean(q (1 - q)) / (128 * prompts)} (the spread of the draws plus
 * the noise of the shared reference estimate), and 0.01 for exact ties (identical completions).
 */
class BestOfNResolutionTest {
  private static final Path DEMO = Path.of("demo");
  private static final int PROMPTS = 16;
  private static final int REFERENCES = 128;
  private static final int POOL = 128;

  @Test
  void bestOfN_demoReference_meanQuantileIsNOverNPlusOne() throws Exception {
    Path policyDir = DEMO.resolve("policy").resolve("1");
    Path rewardFile = DEMO.resolve("reward").resolve("1").resolve("model.onnx");
    Assumptions.assumeTrue(
        Files.exists(policyDir.resolve(ModelDirectory.CONFIG_FILE)) && Files.exists(rewardFile),
        "demo assets not generated (bond assets)");
    ModelDirectory dir = ModelDirectory.read(policyDir);
    List<Prompt> all = CorpusFiles.readPrompts(DEMO.resolve(DemoAssets.PROMPTS_FILE));
    List<Prompt> prompts = new ArrayList<>();
    for (int i = 0; i < PROMPTS; i++) {
      prompts.add(all.get(i * all.size() / PROMPTS));
    }
    SamplingConfig sampling =
        SamplingConfig.builder().setMaxNewTokens(96).optSpecialTokens(dir).build();
    double[][] refs = new double[PROMPTS][];
    double[][] pool = new double[PROMPTS][];
    long t0 = System.nanoTime();
    try (DirectSampler sampler = DirectSampler.builder(dir, sampling).build();
        OrtRewardModel reward =
            OrtRewardModel.builder(rewardFile).optPadTokenId(ByteTokenizer.PAD_ID).build()) {
      List<Generation> r = sampler.sample(prompts, REFERENCES, PolicyRole.POLICY, 1);
      List<Generation> p = sampler.sample(prompts, POOL, PolicyRole.POLICY, 2);
      double[] rs = reward.score(r);
      double[] ps = reward.score(p);
      for (int i = 0; i < PROMPTS; i++) {
        refs[i] = Arrays.copyOfRange(rs, i * REFERENCES, (i + 1) * REFERENCES);
        pool[i] = Arrays.copyOfRange(ps, i * POOL, (i + 1) * POOL);
      }
    }
    System.out.printf(
        "best-of-n resolution: sampled and scored in %.1f s%n", (System.nanoTime() - t0) / 1e9);
    for (int n : new int[] {1, 2, 4, 8, 16}) {
      List<Double> qs = new ArrayList<>();
      double refNoise = 0;
      for (int i = 0; i < PROMPTS; i++) {
        for (int g = 0; g + n <= POOL; g += n) {
          double best = Double.NEGATIVE_INFINITY;
          for (int j = g; j < g + n; j++) {
            best = Math.max(best, pool[i][j]);
          }
          double q = midQuantile(best, refs[i]);
          qs.add(q);
          refNoise += q * (1 - q);
        }
      }
      double mean = qs.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
      double var = qs.stream().mapToDouble(q -> (q - mean) * (q - mean)).sum() / (qs.size() - 1);
      double se = Math.sqrt(var / qs.size() + refNoise / qs.size() / (REFERENCES * PROMPTS));
      double expected = n / (n + 1.0);
      System.out.printf(
          "best-of-%d: mean quantile %.4f, expected %.4f, SE %.4f, %d draws%n",
          n, mean, expected, se, qs.size());
      assertTrue(
          Math.abs(mean - expected) <= 3 * se + 0.01,
          "best-of-"
              + n
              + ": mean quantile "
              + mean
              + ", expected "
              + expected
              + " +- "
              + (3 * se + 0.01));
    }
  }

  private static double midQuantile(double r, double[] refs) {
    double below = 0;
    for (double x : refs) {
      below += x < r ? 1 : x == r ? 0.5 : 0;
    }
    return below / refs.length;
  }
}
