package dev.jbond.orchestrator.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jbond.metrics.StepMetrics;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The step benchmark's derived figures, from hand-made step timings. */
class BenchStepCommandTest {
  private static StepMetrics step(Map<String, Double> timings) {
    return new StepMetrics(1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, timings, Map.of());
  }

  private static StepMetrics step(
      double sample, double learner, double publish, double eval, double total) {
    return step(
        Map.of(
            "sample",
            sample - 10,
            "score",
            10.0,
            "logprobs",
            (learner - publish) / 2,
            "learn",
            (learner - publish) / 2,
            "publish",
            publish,
            "eval",
            eval,
            "checkpoint",
            0.0,
            "total",
            total));
  }

  @Test
  void overlapRatios_pairEachStepWithTheSamplesDrawnDuringIt() {
    // step 1 learns for 300 ms while the samples of step 2 take 500 ms: 550 / 500; step 2 learns
    // for 400 while step 3's samples take 200: 440 / 400 (its 1000 ms of evaluation left out)
    List<StepMetrics> run =
        List.of(
            step(200, 300, 50, 0, 550), step(500, 400, 50, 1000, 1440), step(200, 350, 50, 0, 380));

    List<Double> ratios = BenchStepCommand.overlapRatios(run);

    assertEquals(2, ratios.size());
    assertEquals(550.0 / 500, ratios.get(0), 1e-12);
    assertEquals(440.0 / 400, ratios.get(1), 1e-12);
  }

  @Test
  void summary_medianMeanAndNinetiethPercentile() {
    List<Double> values = List.of(1.3, 1.0, 1.1, 1.2, 1.05, 1.0, 1.0, 1.0, 1.0, 2.0);

    double[] s = BenchStepCommand.summary(values);

    assertArrayEquals(new double[] {1.025, 11.65 / 10, 1.3}, s, 1e-12);
  }
}
