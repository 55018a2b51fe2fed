package dev.jbond.orchestrator.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code bond bench}: benchmarks, one subcommand each; results go to BENCHMARKS.md by hand. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = "Benchmarks measured side by side in one run.",
    subcommands = {
      BenchTrainCommand.class,
      BenchGenerateCommand.class,
      BenchSampleCommand.class,
      BenchStepCommand.class,
      BenchLoraCommand.class,
      BenchServerCommand.class,
      BenchTokenizeCommand.class
    })
public final class BenchCommand implements Callable<Integer> {
  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getOut());
    return 0;
  }
}
