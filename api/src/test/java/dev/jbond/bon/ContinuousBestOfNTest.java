package dev.jbond.bon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ContinuousBestOfNTest {
  @Test
  void kl_knownDrawCounts_matchPublishedValues() {
    assertEquals(0, ContinuousBestOfN.kl(1));
    assertEquals(0.193, ContinuousBestOfN.kl(2), 1e-3);
    assertEquals(0.636, ContinuousBestOfN.kl(4), 1e-3);
    assertEquals(1.204, ContinuousBestOfN.kl(8), 1e-3);
    assertEquals(1.835, ContinuousBestOfN.kl(16), 1e-3);
    assertEquals(Math.log(1024) - 1023.0 / 1024, ContinuousBestOfN.kl(1024), 1e-15);
  }

  @Test
  void meanQuantile_knownDrawCounts_isNOverNPlusOne() {
    assertEquals(0.5, ContinuousBestOfN.meanQuantile(1));
    assertEquals(2.0 / 3, ContinuousBestOfN.meanQuantile(2), 1e-15);
    assertEquals(0.8, ContinuousBestOfN.meanQuantile(4), 1e-15);
    assertEquals(16.0 / 17, ContinuousBestOfN.meanQuantile(16), 1e-15);
  }

  @Test
  void meanLogQuantile_knownDrawCounts_isMinusOneOverN() {
    assertEquals(-1, ContinuousBestOfN.meanLogQuantile(1));
    assertEquals(-0.125, ContinuousBestOfN.meanLogQuantile(8));
  }

  @Test
  void allMethods_drawCountBelowOne_throwWithValue() {
    assertEquals(
        "Expected N >= 1, found 0",
        assertThrows(IllegalArgumentException.class, () -> ContinuousBestOfN.kl(0)).getMessage());
    assertEquals(
        "Expected N >= 1, found -1",
        assertThrows(IllegalArgumentException.class, () -> ContinuousBestOfN.meanQuantile(-1))
            .getMessage());
    assertEquals(
        "Expected N >= 1, found 0",
        assertThrows(IllegalArgumentException.class, () -> ContinuousBestOfN.meanLogQuantile(0))
            .getMessage());
  }
}
