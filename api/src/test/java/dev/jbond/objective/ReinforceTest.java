package dev.jbond.objective;

import static dev.jbond.testing.Fixtures.prompt;
import static dev.jbond.testing.Fixtures.sample;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jbond.Prompt;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReinforceTest {
  @Test
  void weights_twoSamples_leaveOneOutAdvantages() {
    Reinforce r = Reinforce.withKlCoefficient(0.1);
    Prompt a = prompt("a");
    // returns: 1.0 - 0.1 * (-1 - -2) = 0.9 ; 0.2 - 0.1 * (-3 - -1) = 0.4
    PromptGroup g =
        new PromptGroup(
            a, List.of(sample(a, 0, 1.0, -1, 0, -2), sample(a, 1, 0.2, -3, 0, -1)), List.of());
    ObjectiveOutput out = r.weights(List.of(g));
    assertEquals(-(0.9 - 0.4) / 2, out.batch().get(0).weight(), 1e-12);
    assertEquals(-(0.4 - 0.9) / 2, out.batch().get(1).weight(), 1e-12);
    assertEquals(((-0.5 * -1) + (0.5 * -3)) / 2, out.loss(), 1e-12);
    assertEquals(new AnchorSchedule.Frozen(), r.anchorSchedule());
  }

  @Test
  void create_badCoefficient_namesTheValue() {
    assertEquals(
        "Expected a finite KL coefficient > 0, found 0.0",
        assertThrows(IllegalArgumentException.class, () -> Reinforce.withKlCoefficient(0))
            .getMessage());
    assertEquals(
        "Expected samples per prompt >= 1, found 0",
        assertThrows(
                IllegalArgumentException.class, () -> new Reinforce(1, 0, Baseline.LEAVE_ONE_OUT))
            .getMessage());
  }
}
