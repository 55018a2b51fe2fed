package dev.jbond.orchestrator.cli;

import dev.jbond.reference.TabularDemo;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bond demo}: runs the main job on the embedded defaults. Until the full model demo exists
 * this is the tabular J-BOND demo: J-BOND through the real training loop on an exact tabular
 * backend, against the Best-of-N frontier and REINFORCE.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = "Run the J-BOND demo (tabular backend) and print what it did.")
public final class DemoCommand implements Callable<Integer> {
  @Option(names = "--steps", description = "J-BOND steps (default: ${DEFAULT-VALUE}).")
  int steps = TabularDemo.defaults().steps();

  @Option(names = "--prompts", description = "Prompts of the problem (default: ${DEFAULT-VALUE}).")
  int prompts = TabularDemo.defaults().prompts();

  @Option(
      names = "--completions",
      description = "Completions per prompt (default: ${DEFAULT-VALUE}).")
  int completions = TabularDemo.defaults().completions();

  @Option(names = "--lr", description = "Adam learning rate (default: ${DEFAULT-VALUE}).")
  double learningRate = TabularDemo.defaults().learningRate();

  @Option(names = "--seed", description = "Seed (default: ${DEFAULT-VALUE}).")
  long seed = TabularDemo.defaults().seed();

  @Option(names = "--out", description = "Output directory (default: ${DEFAULT-VALUE}).")
  Path out = TabularDemo.defaults().out();

  @Override
  public Integer call() throws Exception {
    new TabularDemo(prompts, completions, steps, learningRate, seed, out).run(System.out);
    return 0;
  }
}
