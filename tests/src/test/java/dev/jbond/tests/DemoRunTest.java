package dev.jbond.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.Generation;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.checkpoint.FileCheckpointStore;
import dev.jbond.loop.JbondLoop;
import dev.jbond.metrics.JsonLinesMetricsReader;
import dev.jbond.metrics.StepMetrics;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.models.demo.CorpusFiles;
import dev.jbond.models.generate.DirectSampler;
import dev.jbond.models.generate.SamplingConfig;
import dev.jbond.onnx.train.LearnerConfig;
import dev.jbond.onnx.train.OrtPolicyLearner;
import dev.jbond.orchestrator.cli.BondCommand;
import dev.jbond.orchestrator.eval.EvalResult;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bond demo} end to end in process, over real gRPC (the embedded server on a loopback TCP
 * port): what a run folder holds, the configuration round trip, the guards against reusing or
 * changing a run, and the export round trip (the exported policy's log-probs equal the learner's).
 */
class DemoRunTest {
  private static String previousHome;

  @TempDir static Path dir;
  private static Path run;
  private static Result demo;

  record Result(int code, String out, String err) {}

  static Result bond(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = BondCommand.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Result(code, out.toString(), err.toString());
  }

  @BeforeAll
  static void runTheDemo() {
    previousHome = System.getProperty("jbond.home");
    System.setProperty("jbond.home", RepositoryRoot.get().toString());
    run = dir.resolve("demo");
    demo = bond("demo", "--steps", "3", "--out", run.toString());
  }

  @AfterAll
  static void restoreHome() {
    if (previousHome == null) {
      System.clearProperty("jbond.home");
    } else {
      System.setProperty("jbond.home", previousHome);
    }
  }

  @Test
  void demo_fewSteps_writesTheRunFolder() throws Exception {
    assertEquals(0, demo.code(), demo.err());
    assertTrue(demo.out().contains("embedded Triton-protocol server on 127.0.0.1:"), demo.out());
    assertTrue(demo.out().contains("Finished 3 steps"), demo.out());
    assertTrue(demo.out().contains("Last evaluation (step 3"), demo.out());

    List<StepMetrics> metrics = JsonLinesMetricsReader.read(run.resolve("metrics.jsonl"));
    assertEquals(List.of(1L, 2L, 3L), metrics.stream().map(StepMetrics::step).toList());
    // the weights after step s are served as version s + 1, the initial ones as version 1
    assertEquals(List.of(1L, 2L, 3L), metrics.stream().map(StepMetrics::policyVersion).toList());
    List<EvalResult> evals = EvalResult.read(run.resolve("eval.jsonl"));
    assertEquals(List.of(0L, 3L), evals.stream().map(EvalResult::step).toList());
    assertEquals(0.0, evals.get(0).klReference(), 1e-9);
    assertEquals(0.5, evals.get(0).quantileVsReference(), 0.15);
    assertTrue(Files.exists(run.resolve("checkpoints/step-000000000003.ckpt")));
    for (String model : List.of("jbond-policy", "jbond-anchor", "jbond-policy-logits")) {
      String pbtxt = Files.readString(run.resolve("export/repository/" + model + "/config.pbtxt"));
      assertTrue(pbtxt.contains("input ") && pbtxt.contains("output "), pbtxt);
      assertTrue(pbtxt.contains("name: \"input_ids\""), pbtxt);
    }
  }

  @Test
  void demo_printConfig_isAcceptedByRunUnchanged() throws Exception {
    Result printed = bond("demo", "--print-config");
    assertEquals(0, printed.code(), printed.err());
    Path file = dir.resolve("printed.yaml");
    Files.writeString(file, printed.out(), StandardCharsets.UTF_8);

    Result run = bond("run", "--config", file.toString(), "--print-config");
    Result saved =
        bond(
            "run", "--config", DemoRunTest.run.resolve("config.yaml").toString(), "--print-config");

    assertEquals(0, run.code(), run.err());
    // the demo's run folder holds the same configuration, but for its run section (its steps)
    assertEquals(beforeRun(run.out()), beforeRun(saved.out()));
  }

  private static String beforeRun(String yaml) {
    return yaml.substring(0, yaml.indexOf("\nrun:"));
  }

  @Test
  void demo_sameFolderAgain_refusedSuggestingResume_andResumeRefusesAChangedSeed() {
    Result again = bond("demo", "--steps", "3", "--out", run.toString());
    assertEquals(2, again.code());
    assertTrue(
        again.err().startsWith("bond: Expected an empty run directory, found checkpoints"),
        again.err());
    assertTrue(
        again
            .err()
            .strip()
            .endsWith("(pass --resume to continue that run, or choose another --out)"),
        again.err());

    Result changed =
        bond("demo", "--steps", "3", "--seed", "5", "--out", run.toString(), "--resume");
    assertEquals(2, changed.code());
    assertTrue(
        changed.err().startsWith("bond: run.seed: expected the value this run started with (0"),
        changed.err());
    assertTrue(
        changed.err().strip().endsWith("found 5 (only run.steps may change)"), changed.err());
  }

  @Test
  void export_checkpointPolicy_logProbsEqualTheLearners() throws Exception {
    Path exported = dir.resolve("export");
    Result r =
        bond("export", "--run", run.toString(), "--role", "policy", "--out", exported.toString());
    assertEquals(0, r.code(), r.err());

    ModelDirectory demoPolicy = ModelDirectory.read(RepositoryRoot.demo().resolve("policy/1"));
    List<Prompt> prompts =
        CorpusFiles.readPrompts(RepositoryRoot.demo().resolve("prompts.jsonl")).subList(0, 6);
    ModelDirectory served = ModelDirectory.read(exported.resolve("repository/jbond-policy/1"));
    try (OrtPolicyLearner learner =
            OrtPolicyLearner.open(demoPolicy.fullGraph(), LearnerConfig.defaults());
        OrtPolicyLearner fromOnnx =
            OrtPolicyLearner.open(exported.resolve("policy/model.onnx"), LearnerConfig.defaults());
        DirectSampler sampler =
            DirectSampler.builder(
                    served,
                    SamplingConfig.builder().setMaxNewTokens(24).optSpecialTokens(served).build())
                .build()) {
      JbondLoop.restoreLearner(FileCheckpointStore.open(run.resolve("checkpoints")), 3, learner);
      List<Generation> samples = sampler.sample(prompts, 2, PolicyRole.POLICY, 11);

      double[] trained = learner.logProbs(PolicyRole.POLICY, samples);
      double[] onnx = fromOnnx.logProbs(PolicyRole.POLICY, samples);
      double[] reference = learner.logProbs(PolicyRole.REFERENCE, samples);
      double moved = 0;
      for (int i = 0; i < samples.size(); i++) {
        assertEquals(trained[i], onnx[i], 1e-5, "exported ONNX, sample " + i);
        double engine = samples.get(i).engineLogProbs().orElseThrow().sum();
        assertEquals(trained[i], engine, 1e-4, "exported generation model, sample " + i);
        moved = Math.max(moved, Math.abs(trained[i] - reference[i]));
      }
      assertTrue(
          moved > 1e-3, "the exported policy is the trained one, not the reference: " + moved);
    }
  }
}
