package dev.jbond.orchestrator.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jbond.metrics.StepMetrics;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Chart helpers: the moving average, its window and the order of the time phases. */
class ChartsTest {
  @Test
  void movingAverage_centredWindow_averagesTheFiniteValuesAround() {
    double[] values = {1, 2, Double.NaN, 4, 5};

    assertArrayEquals(new double[] {1.5, 1.5, 3, 4.5, 4.5}, Charts.movingAverage(values, 3), 1e-12);
    assertArrayEquals(values, Charts.movingAverage(values, 1), 1e-12);
    assertArrayEquals(
        new double[] {Double.NaN}, Charts.movingAverage(new double[] {Double.NaN}, 3), 0);
  }

  @Test
  void window_isAboutFivePercentOfThePointsAndOdd() {
    assertEquals(1, Charts.window(0));
    assertEquals(1, Charts.window(20));
    assertEquals(5, Charts.window(100));
    assertEquals(51, Charts.window(1000));
  }

  @Test
  void phases_knownPhasesInOrderThenOthersSorted_withoutTotal() {
    StepMetrics a = step(Map.of("total", 9.0, "learn", 1.0, "zeta", 1.0, "sample", 1.0));
    StepMetrics b = step(Map.of("alpha", 1.0, "checkpoint", 0.0, "eval", Double.NaN));

    assertEquals(
        List.of("sample", "learn", "checkpoint", "alpha", "zeta"), Charts.phases(List.of(a, b)));
  }

  private static StepMetrics step(Map<String, Double> timings) {
    return new StepMetrics(1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, timings, Map.of());
  }
}
