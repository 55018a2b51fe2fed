package dev.jbond.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.Generation;
import dev.jbond.PolicyRole;
import dev.jbond.spi.PolicyLearner;
import dev.jbond.spi.WeightedSequence;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link PolicyLearner} must meet. Backends extend this class in the {@code
 * tests} module (or their own) and supply a fresh learner and a few sequences it can score.
 */
public abstract class PolicyLearnerContract {
  /**
   * Returns a new learner whose three roles start equal (policy = anchor = reference).
   *
   * @return the learner; the test closes it
   */
  protected abstract PolicyLearner newLearner();

  /**
   * Returns at least two distinct sequences the learner can score.
   *
   * @return the sequences
   */
  protected abstract List<Generation> sequences();

  /**
   * Returns the tolerance for comparing log-probabilities computed twice (0 for bit-exact
   * backends).
   *
   * @return the absolute tolerance
   */
  protected double tolerance() {
    return 0;
  }

  @Test
  void logProbs_onePerSequence_nonPositiveAndEqualAcrossRolesAtStart() {
    try (PolicyLearner l = newLearner()) {
      double[] p = l.logProbs(PolicyRole.POLICY, sequences());
      assertEquals(sequences().size(), p.length);
      for (double v : p) {
        assertTrue(v <= 0 && Double.isFinite(v), "log-probability " + v);
      }
      assertArrayEquals(p, l.logProbs(PolicyRole.ANCHOR, sequences()), tolerance());
      assertArrayEquals(p, l.logProbs(PolicyRole.REFERENCE, sequences()), tolerance());
    }
  }

  @Test
  void step_negativeWeight_raisesThatSequencesLogProb() {
    try (PolicyLearner l = newLearner()) {
      Generation g = sequences().get(0);
      double before = l.logProbs(PolicyRole.POLICY, List.of(g))[0];
      for (int i = 0; i < 3; i++) {
        l.step(List.of(new WeightedSequence(g, -1)));
      }
      assertEquals(3, l.stepCount());
      assertTrue(l.logProbs(PolicyRole.POLICY, List.of(g))[0] > before);
      // the reference never moves, the anchor only through updateAnchor
      assertEquals(
          before, l.logProbs(PolicyRole.REFERENCE, List.of(g))[0], Math.max(tolerance(), 0));
      assertEquals(before, l.logProbs(PolicyRole.ANCHOR, List.of(g))[0], tolerance());
    }
  }

  @Test
  void updateAnchor_oneCopiesPolicy_zeroKeepsAnchor() {
    try (PolicyLearner l = newLearner()) {
      l.step(List.of(new WeightedSequence(sequences().get(0), -1)));
      double[] anchor = l.logProbs(PolicyRole.ANCHOR, sequences());
      l.updateAnchor(0);
      assertArrayEquals(anchor, l.logProbs(PolicyRole.ANCHOR, sequences()), tolerance());
      l.updateAnchor(1);
      assertArrayEquals(
          l.logProbs(PolicyRole.POLICY, sequences()),
          l.logProbs(PolicyRole.ANCHOR, sequences()),
          tolerance());
      assertEquals(
          "Expected eta in [0.0, 1.0], found 1.5",
          assertThrows(IllegalArgumentException.class, () -> l.updateAnchor(1.5)).getMessage());
    }
  }

  @Test
  void snapshot_restore_continuesBitForBit() throws Exception {
    try (PolicyLearner a = newLearner();
        PolicyLearner b = newLearner()) {
      a.step(List.of(new WeightedSequence(sequences().get(0), -1)));
      a.updateAnchor(0.5);
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      a.snapshot(bytes);
      b.restore(new ByteArrayInputStream(bytes.toByteArray()));
      assertEquals(a.stepCount(), b.stepCount());
      List<WeightedSequence> next = List.of(new WeightedSequence(sequences().get(1), -0.5));
      a.step(next);
      b.step(next);
      for (PolicyRole role : PolicyRole.values()) {
        assertArrayEquals(a.logProbs(role, sequences()), b.logProbs(role, sequences()), 0);
      }
    }
  }

  @Test
  void step_emptyBatch_failsClearly() {
    try (PolicyLearner l = newLearner()) {
      assertEquals(
          "Expected at least one weighted sequence, found none",
          assertThrows(IllegalArgumentException.class, () -> l.step(List.of())).getMessage());
    }
  }
}
