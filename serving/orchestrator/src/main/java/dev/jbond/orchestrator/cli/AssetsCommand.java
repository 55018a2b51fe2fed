package dev.jbond.orchestrator.cli;

import dev.jbond.models.demo.DemoAssets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bond assets}: regenerates the demo assets (corpus, prompts, reward model, SFT-trained
 * reference policy) as a Triton model repository; see {@link DemoAssets}.
 */
@Command(
    name = "assets",
    mixinStandardHelpOptions = true,
    description =
        "Regenerate the demo assets (synthetic corpus, prompts, ONNX sentiment reward model and"
            + " the reference policy pre-trained by SFT) as a Triton model repository.")
public final class AssetsCommand implements Callable<Integer> {
  @Option(names = "--out", description = "Repository directory (default: ${DEFAULT-VALUE}).")
  Path out = Path.of("models", "demo");

  @Option(
      names = "--sft-steps",
      description = "SFT steps of the reference policy (default: ${DEFAULT-VALUE}).")
  int sftSteps = DemoAssets.Settings.defaults().sftSteps();

  @Option(names = "--examples", description = "Corpus size (default: ${DEFAULT-VALUE}).")
  int examples = DemoAssets.Settings.defaults().examples();

  @Option(
      names = "--reward-only",
      description = "Write only the reward model (reward/config.pbtxt, reward/1/model.onnx).")
  boolean rewardOnly;

  @Override
  public Integer call() throws Exception {
    if (rewardOnly) {
      Path file = DemoAssets.writeReward(out, DemoAssets.Settings.defaults().rewardSeed());
      System.err.println("bond assets: wrote " + file);
      return 0;
    }
    DemoAssets.Settings settings =
        DemoAssets.Settings.defaults().withSftSteps(sftSteps).withExamples(examples);
    DemoAssets.generate(
        out, settings, System::nanoTime, line -> System.err.println("bond assets: " + line));
    return 0;
  }
}
