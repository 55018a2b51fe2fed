package dev.jbond.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jbond.Generation;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.spi.PolicySampler;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The contract every {@link PolicySampler} must meet: deterministic seeded sampling, prompt-major
 * order, and the producing model recorded on each sample.
 */
public abstract class PolicySamplerContract {
  /**
   * Returns a new sampler serving all three roles.
   *
   * @return the sampler; the test closes it
   */
  protected abstract PolicySampler newSampler();

  /**
   * Returns at least two prompts the sampler accepts.
   *
   * @return the prompts
   */
  protected abstract List<Prompt> prompts();

  @Test
  void sample_promptMajorOrder_andCount() {
    try (PolicySampler s = newSampler()) {
      List<Generation> out = s.sample(prompts(), 3, PolicyRole.POLICY, 1);
      assertEquals(prompts().size() * 3, out.size());
      for (int i = 0; i < out.size(); i++) {
        assertEquals(prompts().get(i / 3).id(), out.get(i).prompt().id());
      }
    }
  }

  @Test
  void sample_sameSeedSameSamples_otherSeedOtherSamples() {
    try (PolicySampler s = newSampler()) {
      List<Generation> a = s.sample(prompts(), 16, PolicyRole.ANCHOR, 7);
      assertEquals(a, s.sample(prompts(), 16, PolicyRole.ANCHOR, 7));
      assertNotEquals(a, s.sample(prompts(), 16, PolicyRole.ANCHOR, 8));
    }
  }

  @Test
  void sample_badCount_failsClearly() {
    try (PolicySampler s = newSampler()) {
      assertEquals(
          "Expected samples per prompt >= 1, found 0",
          assertThrows(
                  IllegalArgumentException.class,
                  () -> s.sample(prompts(), 0, PolicyRole.POLICY, 1))
              .getMessage());
      assertEquals(
          "Expected at least one prompt, found none",
          assertThrows(
                  IllegalArgumentException.class,
                  () -> s.sample(List.of(), 1, PolicyRole.POLICY, 1))
              .getMessage());
    }
  }
}
