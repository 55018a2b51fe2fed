package dev.jbond.orchestrator.cli;

import dev.jbond.models.demo.CorpusFiles;
import dev.jbond.models.demo.TokenizedExample;
import dev.jbond.models.sft.SupervisedFineTuning;
import dev.jbond.onnx.ort.ExecutionProvider;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.onnx.train.LearnerConfig;
import dev.jbond.onnx.train.LearningRateSchedule;
import dev.jbond.onnx.train.OrtPolicyLearner;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bond sft}: supervised fine-tuning of any supported ONNX policy on JSON lines {@code
 * {"prompt": [ids], "completion": [ids]}} (loss on completion tokens), with AdamW; prints and
 * writes per-step loss as JSON lines and exports the result.
 */
@Command(
    name = "sft",
    mixinStandardHelpOptions = true,
    description =
        "Fine-tune an ONNX policy on prompt/completion token ids (JSON lines); print per-step"
            + " loss as JSON lines; export the result to OUT/model.onnx.")
public final class SftCommand implements Callable<Integer> {
  @Option(
      names = "--policy",
      required = true,
      description = "Policy model: a .onnx file or a model directory.")
  Path policy;

  @Option(
      names = "--data",
      required = true,
      description = "JSON lines {\"prompt\": [ids], \"completion\": [ids]}.")
  Path data;

  @Option(names = "--steps", required = true, description = "Optimizer steps.")
  int steps;

  @Option(names = "--lr", description = "AdamW learning rate (default: ${DEFAULT-VALUE}).")
  double learningRate = 1e-4;

  @Option(names = "--warmup", description = "Linear warm-up steps (default: ${DEFAULT-VALUE}).")
  long warmup = 0;

  @Option(
      names = "--weight-decay",
      description = "Decoupled weight decay (default: ${DEFAULT-VALUE}).")
  double weightDecay = 0.0;

  @Option(
      names = "--max-grad-norm",
      description = "Global gradient-norm clip, 0 = off (default: ${DEFAULT-VALUE}).")
  double maxGradNorm = 1.0;

  @Option(names = "--batch", description = "Sequences per step (default: ${DEFAULT-VALUE}).")
  int batch = 16;

  @Option(names = "--seed", description = "Batch shuffle seed (default: ${DEFAULT-VALUE}).")
  long seed = 0;

  @Option(names = "--threads", description = "ONNX Runtime intra-op threads, 0 = all cores.")
  int threads = 0;

  @Option(names = "--cuda", description = "Run on CUDA (needs the cuda Maven profile build).")
  boolean cuda;

  @Option(
      names = "--checkpoint-every",
      description = "Checkpoint interval in steps (default: ${DEFAULT-VALUE}).")
  int checkpointEvery = 100;

  @Option(names = "--resume", description = "Continue from the newest checkpoint in OUT.")
  boolean resume;

  @Option(names = "--out", description = "Output directory (default: ${DEFAULT-VALUE}).")
  Path out = Path.of("runs", "sft");

  @Override
  public Integer call() throws Exception {
    List<TokenizedExample> examples = CorpusFiles.readExamples(data);
    SessionConfig.Builder session = SessionConfig.builder();
    if (threads > 0) {
      session.optIntraOpThreads(threads);
    }
    if (cuda) {
      session.optExecutionProvider(ExecutionProvider.CUDA);
    }
    LearnerConfig config =
        LearnerConfig.builder()
            .optLearningRate(learningRate)
            .optSchedule(LearningRateSchedule.constant(warmup))
            .optWeightDecay(weightDecay)
            .optMaxGradientNorm(maxGradNorm)
            .optSession(session.build())
            .build();
    PrintStream console = System.out;
    try (OrtPolicyLearner learner = OrtPolicyLearner.open(policy, config)) {
      System.err.printf(
          "bond sft: %s (%d parameters), %d examples, %d steps of %d%n",
          learner.model().name(), learner.model().parameterCount(), examples.size(), steps, batch);
      new SupervisedFineTuning(
              new SupervisedFineTuning.Settings(steps, batch, seed, checkpointEvery, resume),
              System::nanoTime)
          .run(learner, examples, out, s -> console.println(SupervisedFineTuning.toJson(s)));
    }
    System.err.printf("bond sft: wrote %s%n", out.resolve("model.onnx"));
    return 0;
  }
}
