package dev.jbond.objective;

import static dev.jbond.testing.Fixtures.prompt;
import static dev.jbond.testing.Fixtures.sample;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.spi.WeightedSequence;
import java.util.List;
import org.junit.jupiter.api.Test;

class JbondTest {
  private static final double LOG16 = Math.log(16);

  private static PromptGroup group(
      Prompt p, double ry, double lp, double la, double r1, double r2) {
    return new PromptGroup(
        p,
        List.of(sample(p, 0, ry, lp, la, -9)),
        List.of(sample(p, 1, r1, -1.5, Double.NaN, Double.NaN), sample(p, 2, r2, -2.5, 0, 0)));
  }

  @Test
  void weights_twoPrompts_matchHandComputedTerms() {
    Jbond j = Jbond.builder().optBeta(0.5).optGamma(0.25).build();
    Prompt a = prompt("a");
    Prompt b = prompt("b");
    // a: policy loses to both anchors (0.1 < min(0.5, 0.7)) -> r_J = -log 16; best anchor = 2nd.
    // b: policy ties both anchors -> r_J = 0 (strict "<"); best anchor = 1st (first drawn wins
    // ties).
    ObjectiveOutput out =
        j.weights(
            List.of(group(a, 0.1, -1.0, -1.2, 0.5, 0.7), group(b, 0.9, -2.0, -1.0, 0.9, 0.9)));
    List<WeightedSequence> w = out.batch();
    assertEquals(4, w.size());
    // forward: -(1 - beta) / P on the better anchor sample
    assertEquals(2, w.get(0).generation().completion().get(0));
    assertEquals(-0.25, w.get(0).weight(), 1e-12);
    assertEquals(1, w.get(2).generation().completion().get(0));
    assertEquals(-0.25, w.get(2).weight(), 1e-12);
    // backward + regulariser on the policy sample: (-beta R + gamma l) / P
    double la = 0.2; // -1.0 - (-1.2)
    double ra = -LOG16 - la;
    assertEquals((-0.5 * ra + 0.25 * la) / 2, w.get(1).weight(), 1e-12);
    double lb = -1.0;
    double rb = 0 - lb;
    assertEquals((-0.5 * rb + 0.25 * lb) / 2, w.get(3).weight(), 1e-12);
    // loss terms
    assertEquals((2.5 + 1.5) / 2, out.lossForward(), 1e-12);
    assertEquals((-ra * -1.0 + -rb * -2.0) / 2, out.lossBackward(), 1e-12);
    assertEquals((la * -1.0 + lb * -2.0) / 2, out.lossRegularizer(), 1e-12);
    assertEquals(
        0.5 * out.lossForward() + 0.5 * out.lossBackward() + 0.25 * out.lossRegularizer(),
        out.loss(),
        1e-12);
    assertEquals(0.5, out.extras().get("lossRate"), 1e-12);
  }

  @Test
  void jbondReward_strictInequality_tiesAreNotPenalised() {
    Jbond j = Jbond.defaults();
    assertEquals(-LOG16, j.jbondReward(0.1, 0.2, 0.3), 0);
    assertEquals(0, j.jbondReward(0.2, 0.2, 0.3), 0);
    assertEquals(0, j.jbondReward(0.25, 0.2, 0.3), 0);
  }

  @Test
  void expectedJbondReward_atMedian_equalsLogQuantile() {
    Jbond j = Jbond.defaults();
    assertEquals(Math.log(0.5), j.expectedJbondReward(0.5), 1e-12);
    assertEquals(-LOG16, j.expectedJbondReward(0), 1e-12);
    assertEquals(0, j.expectedJbondReward(1), 1e-12);
  }

  @Test
  void weights_leaveOneOutBaseline_subtractsMeanOfOtherPrompts() {
    Jbond j = Jbond.builder().optBaseline(Baseline.LEAVE_ONE_OUT).build();
    Prompt a = prompt("a");
    Prompt b = prompt("b");
    Prompt c = prompt("c");
    ObjectiveOutput out =
        j.weights(
            List.of(
                group(a, 0.1, -1.0, -1.0, 0.5, 0.7),
                group(b, 0.9, -1.0, -1.5, 0.5, 0.7),
                group(c, 0.9, -1.0, -0.5, 0.5, 0.7)));
    double[] r = {-LOG16, -0.5, 0.5};
    for (int i = 0; i < 3; i++) {
      double baseline = (r[0] + r[1] + r[2] - r[i]) / 2;
      assertEquals(-0.5 * (r[i] - baseline) / 3, out.batch().get(2 * i + 1).weight(), 1e-12);
    }
  }

  @Test
  void weights_gammaTerm_pullsTowardAnchor() {
    Jbond j = Jbond.builder().optBeta(0).optGamma(1).build();
    Prompt a = prompt("a");
    // policy puts more mass on y than the anchor: the weight is positive, so descending
    // w * log pi(y) lowers log pi(y), toward the anchor.
    ObjectiveOutput out = j.weights(List.of(group(a, 0.5, -1.0, -2.0, 0.1, 0.2)));
    assertTrue(out.batch().get(1).weight() > 0);
    assertEquals(1.0, out.batch().get(1).weight(), 1e-12);
  }

  @Test
  void plan_and_schedule_followThePaper() {
    Jbond j = Jbond.defaults();
    assertEquals(1, j.plan().policySamples());
    assertEquals(2, j.plan().comparisonSamples());
    assertSame(PolicyRole.ANCHOR, j.plan().comparisonRole());
    assertEquals(new AnchorSchedule.Ema(0.02), j.anchorSchedule());
    assertEquals(0.5, j.beta());
    assertTrue(j.toString().contains("beta=0.5"), j.toString());
    assertTrue(j.toString().contains("eta=0.02"), j.toString());
  }

  @Test
  void builder_badHyperparameters_nameTheValue() {
    assertEquals(
        "Expected beta in [0.0, 1.0], found 1.5",
        assertThrows(IllegalArgumentException.class, () -> Jbond.builder().optBeta(1.5).build())
            .getMessage());
    assertEquals(
        "Expected eta in [0.0, 1.0], found -0.1",
        assertThrows(IllegalArgumentException.class, () -> Jbond.builder().optEta(-0.1).build())
            .getMessage());
    assertEquals(
        "Expected eta in [0.0, 1.0], found NaN",
        assertThrows(
                IllegalArgumentException.class, () -> Jbond.builder().optEta(Double.NaN).build())
            .getMessage());
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> Jbond.builder().optGamma(-1).build())
            .getMessage()
            .contains("gamma >= 0, found -1.0"));
  }

  @Test
  void weights_emptyBatchOrWrongShape_fails() {
    Jbond j = Jbond.defaults();
    assertEquals(
        "Expected at least one prompt group in the J-BOND batch, found none",
        assertThrows(IllegalArgumentException.class, () -> j.weights(List.of())).getMessage());
    Prompt a = prompt("a");
    PromptGroup oneAnchor =
        new PromptGroup(a, List.of(sample(a, 0, 0, -1, -1, -1)), List.of(sample(a, 1, 0, 0, 0, 0)));
    assertEquals(
        "Expected 1 policy and 2 anchor samples for prompt 'a' (J-BOND), found 1 and 1",
        assertThrows(IllegalArgumentException.class, () -> j.weights(List.of(oneAnchor)))
            .getMessage());
  }

  @Test
  void sample_nonFiniteReward_namesThePrompt() {
    Prompt a = prompt("a");
    assertTrue(
        assertThrows(IllegalArgumentException.class, () -> sample(a, 0, Double.NaN, 0, 0, 0))
            .getMessage()
            .startsWith("Expected a finite reward, found NaN for prompt 'a'"));
  }
}
