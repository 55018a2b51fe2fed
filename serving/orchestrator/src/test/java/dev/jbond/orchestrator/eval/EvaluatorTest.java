package dev.jbond.orchestrator.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The quantile against the reference, the Best-of-N equivalents and the eval.jsonl lines. */
class EvaluatorTest {
  @Test
  void quantile_countsBeatenReferenceSamples_tiesHalf() {
    List<double[]> reference = List.of(new double[] {1, 2, 3, 4}, new double[] {0, 0, 0, 0});
    // prompt 0: 2.5 beats 2 of 4, 4 beats 3 and ties 1; prompt 1: 0 ties all, 1 beats all
    double q = Evaluator.quantile(new double[] {2.5, 4, 0, 1}, 2, reference);

    assertEquals((0.5 + 0.875 + 0.5 + 1.0) / 4, q, 1e-12);
  }

  @Test
  void quantile_wrongCount_failsWithCounts() {
    assertEquals(
        "Expected 4 rewards (2 prompts x 2), found 3",
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    Evaluator.quantile(
                        new double[3], 2, List.of(new double[] {1}, new double[] {2})))
            .getMessage());
  }

  @Test
  void bestOfN_andFrontierKl_matchTheBestOfNFormulas() {
    assertEquals(4, EvalResult.bestOfN(0.8), 1e-12);
    assertEquals(Math.log(4) - 0.75, EvalResult.frontierKl(4), 1e-12);
    assertEquals(0.636, EvalResult.frontierKl(4), 1e-3);
    assertEquals(0, EvalResult.frontierKl(0.9), 0);
    assertEquals(Double.POSITIVE_INFINITY, EvalResult.bestOfN(1), 0);
  }

  @Test
  void evalLines_writeAndReadBack(@TempDir Path dir) throws Exception {
    EvalResult r = new EvalResult(50, 1.5, -0.1, 0.8, 0.9, 4, 0.636, 25, 4);
    Path file = dir.resolve("eval.jsonl");
    Files.writeString(
        file, r.toJson() + "\n" + r.toJson().replace("\"step\":50", "\"step\":100") + "\n");

    List<EvalResult> read = EvalResult.read(file);

    assertEquals(r, read.get(0));
    assertEquals(100, read.get(1).step());
    assertEquals(
        "{\"step\":50,\"rewardMean\":1.5,\"referenceRewardMean\":-0.1,\"quantileVsReference\":0.8,"
            + "\"klReference\":0.9,\"bestOfNEquivalent\":4.0,\"frontierKl\":0.636,\"prompts\":25,"
            + "\"samplesPerPrompt\":4}",
        r.toJson());
  }
}
