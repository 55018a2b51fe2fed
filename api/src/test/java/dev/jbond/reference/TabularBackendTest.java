package dev.jbond.reference;

import static dev.jbond.testing.Fixtures.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.Generation;
import dev.jbond.ModelVersion;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.spi.WeightedSequence;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TabularBackendTest {
  private final TabularProblem problem = TabularProblem.random(3, 5, 1.0, 0, 4);

  private Generation gen(int prompt, int token) {
    return Generation.of(
        problem.prompts().get(prompt), TokenSequence.of(token), new ModelVersion("t", 0));
  }

  @Test
  void step_gradientMatchesFiniteDifferenceOfWeightedLogLikelihood() {
    TabularBackend b = TabularBackend.create(problem, TabularBackend.Optimizer.SGD, 1e-3);
    List<WeightedSequence> batch =
        List.of(
            new WeightedSequence(gen(0, 1), -0.7),
            new WeightedSequence(gen(0, 3), 0.2),
            new WeightedSequence(gen(2, 4), -1.1));
    double[] before = new double[problem.parameterCount()];
    for (int i = 0; i < problem.size(); i++) {
      System.arraycopy(b.logProbabilities(PolicyRole.POLICY, i), 0, before, problem.offset(i), 5);
    }
    double loss = b.step(batch).loss();
    assertEquals(-0.7 * before[1] + 0.2 * before[3] - 1.1 * before[10 + 4], loss, 1e-12);
    // SGD moved theta by -lr * grad; compare with the analytic gradient w (e_y - pi).
    double[] after = new double[problem.parameterCount()];
    for (int i = 0; i < problem.size(); i++) {
      System.arraycopy(b.logProbabilities(PolicyRole.POLICY, i), 0, after, problem.offset(i), 5);
    }
    double[] pi0 = problem.referenceProbabilities(0);
    double[] expected = new double[5];
    for (int k = 0; k < 5; k++) {
      expected[k] = -0.7 * ((k == 1 ? 1 : 0) - pi0[k]) + 0.2 * ((k == 3 ? 1 : 0) - pi0[k]);
    }
    // log-softmax is shift invariant, so compare centred logit changes
    double[] moved = new double[5];
    double[] grad = new double[5];
    double mMean = 0;
    double gMean = 0;
    for (int k = 0; k < 5; k++) {
      moved[k] = (before[k] - after[k]) / 1e-3;
      mMean += moved[k] / 5;
      gMean += expected[k] / 5;
    }
    for (int k = 0; k < 5; k++) {
      moved[k] -= mMean;
      grad[k] = expected[k] - gMean;
    }
    assertAllClose(moved, grad, 1e-2, 1e-3);
  }

  @Test
  void sample_frequenciesMatchServedProbabilities() {
    TabularBackend b = TabularBackend.adam(problem, 0.1);
    Prompt p = problem.prompts().get(1);
    int n = 40_000;
    int[] counts = new int[5];
    for (Generation g : b.sample(List.of(p), n, PolicyRole.POLICY, 99)) {
      counts[g.completion().get(0)]++;
    }
    double[] probs = problem.referenceProbabilities(1);
    double chi2 = 0;
    for (int k = 0; k < 5; k++) {
      double e = n * probs[k];
      chi2 += (counts[k] - e) * (counts[k] - e) / e;
    }
    // 4 degrees of freedom: P(chi2 > 18.47) = 0.001
    assertTrue(chi2 < 18.47, "chi-square " + chi2);
  }

  @Test
  void sample_sameSeedSameSamples_differentSeedsDiffer() {
    TabularBackend b = TabularBackend.adam(problem, 0.1);
    List<Generation> a = b.sample(problem.prompts(), 20, PolicyRole.POLICY, 1);
    assertEquals(a, b.sample(problem.prompts(), 20, PolicyRole.POLICY, 1));
    assertTrue(!a.equals(b.sample(problem.prompts(), 20, PolicyRole.POLICY, 2)));
  }

  @Test
  void publish_samplesComeFromPublishedVersionOnly() {
    TabularBackend b = TabularBackend.create(problem, TabularBackend.Optimizer.SGD, 100);
    b.step(List.of(new WeightedSequence(gen(0, 2), -1)));
    // not yet published: still samples the reference at version 0
    Generation g = b.sample(problem.prompts().subList(0, 1), 1, PolicyRole.POLICY, 3).get(0);
    assertEquals(0, g.model().version());
    b.publish(b, PolicyRole.POLICY, 1);
    List<Generation> after = b.sample(problem.prompts().subList(0, 1), 200, PolicyRole.POLICY, 3);
    assertEquals(1, after.get(0).model().version());
    assertTrue(after.stream().allMatch(x -> x.completion().get(0) == 2));
    assertEquals(
        "Expected a policy version newer than 1, found 1",
        assertThrows(IllegalArgumentException.class, () -> b.publish(b, PolicyRole.POLICY, 1))
            .getMessage());
  }

  @Test
  void snapshot_restore_roundTripIsBitExact() throws IOException {
    TabularBackend a = TabularBackend.adam(problem, 0.1);
    for (int s = 0; s < 5; s++) {
      a.step(List.of(new WeightedSequence(gen(s % 3, s % 5), -1)));
      a.updateAnchor(0.3);
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    a.snapshot(bytes);
    TabularBackend b = TabularBackend.adam(problem, 0.1);
    b.restore(new ByteArrayInputStream(bytes.toByteArray()));
    assertEquals(5, b.stepCount());
    // one more identical step on both keeps them identical (optimizer state restored too)
    a.step(List.of(new WeightedSequence(gen(1, 1), -1)));
    b.step(List.of(new WeightedSequence(gen(1, 1), -1)));
    for (PolicyRole role : PolicyRole.values()) {
      for (int i = 0; i < 3; i++) {
        assertArrayEquals(a.logProbabilities(role, i), b.logProbabilities(role, i), 0);
      }
    }
  }

  @Test
  void restore_otherProblem_failsClearly() throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    TabularBackend.adam(TabularProblem.random(3, 4, 1.0, 0, 4), 0.1).snapshot(bytes);
    TabularBackend b = TabularBackend.adam(problem, 0.1);
    assertEquals(
        "Expected a snapshot of 15 parameters, found 12",
        assertThrows(
                IOException.class, () -> b.restore(new ByteArrayInputStream(bytes.toByteArray())))
            .getMessage());
  }

  @Test
  void updateAnchor_emaMovesAnchorTowardPolicy() {
    TabularBackend b = TabularBackend.create(problem, TabularBackend.Optimizer.SGD, 1);
    b.step(List.of(new WeightedSequence(gen(0, 0), -1)));
    double[] policy = b.logProbabilities(PolicyRole.POLICY, 0);
    b.updateAnchor(1.0);
    assertAllClose(b.logProbabilities(PolicyRole.ANCHOR, 0), policy, 0, 1e-12);
    assertEquals(
        "Expected eta in [0.0, 1.0], found 2.0",
        assertThrows(IllegalArgumentException.class, () -> b.updateAnchor(2)).getMessage());
  }

  @Test
  void badInput_clearErrors() {
    TabularBackend b = TabularBackend.adam(problem, 0.1);
    assertEquals(
        "Expected a completion token in [0, 5) for prompt 'p0', found 7",
        assertThrows(IllegalArgumentException.class, () -> b.score(List.of(gen(0, 7))))
            .getMessage());
    assertEquals(
        "Expected a prompt id of this problem (p0..p2), found 'zz'",
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    b.sample(
                        List.of(new Prompt("zz", TokenSequence.of(0))), 1, PolicyRole.POLICY, 0))
            .getMessage());
    assertEquals(
        "Expected at least one weighted sequence, found none",
        assertThrows(IllegalArgumentException.class, () -> b.step(new ArrayList<>())).getMessage());
    assertEquals(
        "Expected a finite learning rate > 0, found NaN",
        assertThrows(IllegalArgumentException.class, () -> TabularBackend.adam(problem, Double.NaN))
            .getMessage());
  }

  @Test
  void export_writesOneJsonLinePerPrompt(@TempDir Path dir) throws IOException {
    TabularBackend b = TabularBackend.adam(problem, 0.1);
    Path out = dir.resolve("policy.jsonl");
    b.export(PolicyRole.POLICY, out);
    List<String> lines = Files.readAllLines(out);
    assertEquals(3, lines.size());
    assertTrue(lines.get(0).startsWith("{\"prompt\": \"p0\", \"logits\": ["), lines.get(0));
  }
}
