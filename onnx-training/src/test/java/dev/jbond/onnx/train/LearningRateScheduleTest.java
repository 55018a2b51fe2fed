package dev.jbond.onnx.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class LearningRateScheduleTest {
  @Test
  void rate_constantWithWarmup_rampsLinearlyThenHolds() {
    LearningRateSchedule s = LearningRateSchedule.constant(4);

    assertEquals(0.25, s.rate(1.0, 1), 1e-15);
    assertEquals(0.75, s.rate(1.0, 3), 1e-15);
    assertEquals(1.0, s.rate(1.0, 4), 1e-15);
    assertEquals(1.0, s.rate(1.0, 1000), 1e-15);
    assertEquals(2.0, LearningRateSchedule.constant(0).rate(2.0, 1), 0);
  }

  @Test
  void rate_linearDecay_reachesTheFloorAtTotalSteps() {
    LearningRateSchedule s = LearningRateSchedule.linear(2, 6, 0.1);

    assertEquals(0.5, s.rate(1.0, 1), 1e-15);
    assertEquals(1.0, s.rate(1.0, 2), 1e-15);
    assertEquals(0.55, s.rate(1.0, 4), 1e-15);
    assertEquals(0.1, s.rate(1.0, 6), 1e-15);
    assertEquals(0.1, s.rate(1.0, 60), 1e-15);
  }

  @Test
  void rate_cosineDecay_followsHalfCosineToTheFloor() {
    LearningRateSchedule s = LearningRateSchedule.cosine(0, 4, 0.0);

    assertEquals(0.5 * (1 + Math.cos(Math.PI / 4)), s.rate(1.0, 1), 1e-15);
    assertEquals(0.5, s.rate(1.0, 2), 1e-15);
    assertEquals(0.0, s.rate(1.0, 4), 1e-15);
  }

  @Test
  void constructor_decayEndingBeforeWarmup_failsClearly() {
    assertEquals(
        "Expected totalSteps > warmupSteps (10) for a COSINE decay, found 10",
        assertThrows(IllegalArgumentException.class, () -> LearningRateSchedule.cosine(10, 10, 0))
            .getMessage());
    assertEquals(
        "Expected a step >= 1, found 0",
        assertThrows(
                IllegalArgumentException.class, () -> LearningRateSchedule.constant(0).rate(1.0, 0))
            .getMessage());
  }
}
