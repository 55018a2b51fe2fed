package dev.jbond.bon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class QuantileEstimatorTest {
  private static final double[] REFERENCE = {0.5, -1, 2, 0.5};

  @Test
  void pLessOrEqual_handExample_countsTiesAsNotBetter() {
    QuantileEstimator estimator = QuantileEstimator.withDefaultFloor();
    assertEquals(0.75, estimator.pLessOrEqual(0.5, REFERENCE));
    assertEquals(0.25, estimator.pLessOrEqual(-1, REFERENCE));
    assertEquals(0, estimator.pLessOrEqual(-1.5, REFERENCE));
    assertEquals(1, estimator.pLessOrEqual(2, REFERENCE));
  }

  @Test
  void pLess_handExample_excludesTies() {
    QuantileEstimator estimator = QuantileEstimator.withDefaultFloor();
    assertEquals(0.25, estimator.pLess(0.5, REFERENCE));
    assertEquals(0, estimator.pLess(-1, REFERENCE));
    assertEquals(0.75, estimator.pLess(2, REFERENCE));
    assertEquals(1, estimator.pLess(3, REFERENCE));
  }

  @Test
  void logPLessOrEqual_aboveFloor_isLogOfEstimate() {
    QuantileEstimator estimator = QuantileEstimator.withDefaultFloor();
    assertEquals(Math.log(0.75), estimator.logPLessOrEqual(0.5, REFERENCE), 1e-15);
    assertEquals(0, estimator.logPLessOrEqual(2, REFERENCE));
  }

  @Test
  void logPLessOrEqual_worseThanAllReferences_usesHalfOverKFloor() {
    QuantileEstimator estimator = QuantileEstimator.withDefaultFloor();
    assertEquals(Math.log(1.0 / 8), estimator.logPLessOrEqual(-5, REFERENCE), 1e-15);
    assertEquals(Math.log(1.0 / 32), estimator.logPLessOrEqual(-5, new double[16]), 1e-15);
  }

  @Test
  void logPLessOrEqual_fixedFloor_appliesOnlyBelowIt() {
    QuantileEstimator estimator = QuantileEstimator.withFixedFloor(0.3);
    assertEquals(Math.log(0.3), estimator.logPLessOrEqual(-5, REFERENCE), 1e-15);
    // 0.25 is below the floor 0.3 too.
    assertEquals(Math.log(0.3), estimator.logPLessOrEqual(-1, REFERENCE), 1e-15);
    assertEquals(Math.log(0.75), estimator.logPLessOrEqual(0.5, REFERENCE), 1e-15);
  }

  @Test
  void logPLessOrEqual_randomInputs_neverReturnsNegativeInfinity() {
    SplittableRandom rng = new SplittableRandom(17);
    QuantileEstimator estimator = QuantileEstimator.withDefaultFloor();
    for (int trial = 0; trial < 1000; trial++) {
      int k = 1 + rng.nextInt(32);
      double[] references = new double[k];
      for (int i = 0; i < k; i++) {
        references[i] = rng.nextGaussian();
      }
      double reward = rng.nextGaussian() * 2;
      double log = estimator.logPLessOrEqual(reward, references);
      assertTrue(Double.isFinite(log), "Expected a finite log-quantile, found " + log);
      assertTrue(log >= Math.log(0.5 / k) && log <= 0, "Out of range: " + log);
    }
  }

  @Test
  void floor_rules_haveDocumentedValues() {
    assertEquals(1.0 / 32, QuantileEstimator.Floor.halfOverSampleCount().value(16));
    assertEquals(0.5, QuantileEstimator.Floor.halfOverSampleCount().value(1));
    assertEquals(0.01, QuantileEstimator.Floor.fixed(0.01).value(16));
    assertEquals(
        QuantileEstimator.Floor.halfOverSampleCount(),
        QuantileEstimator.withDefaultFloor().floor());
    assertEquals(
        "QuantileEstimator[floor=Fixed[value=0.01]]",
        QuantileEstimator.withFixedFloor(0.01).toString());
  }

  @Test
  void floor_outOfRange_throwsWithValue() {
    assertEquals(
        "Expected a floor in (0, 1], found 0.0",
        assertThrows(IllegalArgumentException.class, () -> QuantileEstimator.withFixedFloor(0))
            .getMessage());
    assertEquals(
        "Expected a floor in (0, 1], found 1.5",
        assertThrows(IllegalArgumentException.class, () -> QuantileEstimator.Floor.fixed(1.5))
            .getMessage());
    assertEquals(
        "Expected a floor in (0, 1], found NaN",
        assertThrows(
                IllegalArgumentException.class, () -> QuantileEstimator.withFixedFloor(Double.NaN))
            .getMessage());
  }

  @Test
  void pLessOrEqual_noReferences_throws() {
    QuantileEstimator estimator = QuantileEstimator.withDefaultFloor();
    assertEquals(
        "Expected k (reference rewards) >= 1, found 0",
        assertThrows(IllegalArgumentException.class, () -> estimator.pLessOrEqual(0, new double[0]))
            .getMessage());
    assertEquals(
        "Expected k (reference rewards) >= 1, found 0",
        assertThrows(
                IllegalArgumentException.class, () -> estimator.logPLessOrEqual(0, new double[0]))
            .getMessage());
  }

  @Test
  void pLess_nonFiniteRewards_throwNamingIndexAndValue() {
    QuantileEstimator estimator = QuantileEstimator.withDefaultFloor();
    assertEquals(
        "Expected referenceRewards[2] finite, found NaN",
        assertThrows(
                IllegalArgumentException.class,
                () -> estimator.pLess(0, new double[] {1, 2, Double.NaN}))
            .getMessage());
    assertEquals(
        "Expected a finite reward, found Infinity",
        assertThrows(
                IllegalArgumentException.class,
                () -> estimator.logPLessOrEqual(Double.POSITIVE_INFINITY, REFERENCE))
            .getMessage());
  }
}
