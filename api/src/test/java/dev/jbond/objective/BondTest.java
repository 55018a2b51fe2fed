package dev.jbond.objective;

import static dev.jbond.testing.Fixtures.prompt;
import static dev.jbond.testing.Fixtures.sample;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BondTest {
  private static PromptGroup group(Prompt p, double ry, double lp, double lref, double... refs) {
    List<ScoredSample> cmp = new ArrayList<>();
    for (int i = 0; i < refs.length; i++) {
      cmp.add(sample(p, i + 1, refs[i], -1 - i, Double.NaN, Double.NaN));
    }
    return new PromptGroup(p, List.of(sample(p, 0, ry, lp, Double.NaN, lref)), cmp);
  }

  @Test
  void weights_monteCarloQuantile_backwardReturnScaledByNMinusOne() {
    Bond b = Bond.builder(4).optQuantileSamples(4).optBaseline(Baseline.NONE).build();
    Prompt a = prompt("a");
    // reference rewards 0.1 0.5 0.5 0.9; policy reward 0.5 -> p_hat_<= = 3/4
    ObjectiveOutput out = b.weights(List.of(group(a, 0.5, -1.0, -1.5, 0.1, 0.5, 0.5, 0.9)));
    // forward: Best-of-4 of the reference samples = the 4th (reward 0.9)
    assertEquals(4, out.batch().get(0).generation().completion().get(0));
    assertEquals(-0.5, out.batch().get(0).weight(), 1e-12);
    double ret = 3 * Math.log(0.75) - 0.5;
    assertEquals(-0.5 * ret, out.batch().get(1).weight(), 1e-12);
    assertEquals(Math.log(0.75), out.extras().get("logQuantileMean"), 1e-12);
  }

  @Test
  void weights_policyWorseThanAllSamples_usesFloor() {
    Bond b = Bond.builder(2).optQuantileSamples(4).optBaseline(Baseline.NONE).build();
    assertEquals(1.0 / 8, b.quantileFloor());
    Prompt a = prompt("a");
    ObjectiveOutput out = b.weights(List.of(group(a, 0.0, -1.0, -1.0, 0.1, 0.5, 0.5, 0.9)));
    assertEquals(-0.5 * Math.log(1.0 / 8), out.batch().get(1).weight(), 1e-12);
  }

  @Test
  void bondReward_withCollisionCorrection_addsLogCOverNMinusOne() {
    Bond plain = Bond.builder(4).build();
    Bond corrected = Bond.builder(4).optCollisionCorrection(true).build();
    assertEquals(Math.log(0.5), plain.bondReward(0.25, 0.5), 1e-12);
    // C_4 = 1 + 1/2 + 1/4 + 1/8
    assertEquals(Math.log(0.5) + Math.log(1.875) / 3, corrected.bondReward(0.25, 0.5), 1e-12);
  }

  @Test
  void plan_comparesAgainstReference_iterativeAgainstAnchor() {
    assertEquals(PolicyRole.REFERENCE, Bond.builder(8).build().plan().comparisonRole());
    assertEquals(16, Bond.builder(8).build().plan().comparisonSamples());
    IterativeBond it = new IterativeBond(Bond.builder(2).build(), 50);
    assertEquals(PolicyRole.ANCHOR, it.plan().comparisonRole());
    assertEquals(new AnchorSchedule.HardRefresh(50), it.anchorSchedule());
    assertEquals(1.0, it.anchorSchedule().etaAfterStep(100));
    assertEquals(0.0, it.anchorSchedule().etaAfterStep(101));
    assertEquals(2, IterativeBond.defaults().n());
    assertEquals(1000, IterativeBond.defaults().refreshEvery());
  }

  @Test
  void builder_badN_namesTheValue() {
    assertEquals(
        "Expected N >= 1, found 0",
        assertThrows(IllegalArgumentException.class, () -> Bond.builder(0).build()).getMessage());
    assertEquals(
        "Expected quantile samples per prompt (at least N) >= 8, found 4",
        assertThrows(
                IllegalArgumentException.class, () -> Bond.builder(8).optQuantileSamples(4).build())
            .getMessage());
  }
}
