package dev.jbond.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.jbond.Generation;
import dev.jbond.ModelVersion;
import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.objective.ScoredSample;

/** Small builders of value types and numeric assertions for tests. */
public final class Fixtures {
  private Fixtures() {}

  /**
   * A prompt with a one-token body.
   *
   * @param id the prompt id
   * @return the prompt
   */
  public static Prompt prompt(String id) {
    return new Prompt(id, TokenSequence.of(1));
  }

  /**
   * A one-token completion of {@code prompt} from {@code model@version}.
   *
   * @param prompt the prompt
   * @param token the completion token
   * @param model the model name
   * @param version the model version
   * @return the generation
   */
  public static Generation generation(Prompt prompt, int token, String model, long version) {
    return Generation.of(prompt, TokenSequence.of(token), new ModelVersion(model, version));
  }

  /**
   * A scored sample with log-probabilities under the three roles.
   *
   * @param prompt the prompt
   * @param token the completion token
   * @param reward the reward
   * @param logPolicy log pi
   * @param logAnchor log pi_anchor
   * @param logReference log pi_ref
   * @return the sample
   */
  public static ScoredSample sample(
      Prompt prompt,
      int token,
      double reward,
      double logPolicy,
      double logAnchor,
      double logReference) {
    return new ScoredSample(
        generation(prompt, token, "m", 0), reward, logPolicy, logAnchor, logReference);
  }

  /**
   * Asserts element-wise closeness: {@code |a - e| <= atol + rtol |e|}.
   *
   * @param actual the values found
   * @param expected the values expected
   * @param rtol relative tolerance
   * @param atol absolute tolerance
   */
  public static void assertAllClose(double[] actual, double[] expected, double rtol, double atol) {
    assertEquals(expected.length, actual.length, "length");
    for (int i = 0; i < expected.length; i++) {
      if (!(Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]))) {
        fail(
            "Element "
                + i
                + ": expected "
                + expected[i]
                + ", found "
                + actual[i]
                + " (rtol "
                + rtol
                + ", atol "
                + atol
                + ")");
      }
    }
  }
}
