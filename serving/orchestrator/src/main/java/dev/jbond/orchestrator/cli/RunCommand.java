package dev.jbond.orchestrator.cli;

import dev.jbond.orchestrator.config.RunConfig;
import dev.jbond.orchestrator.config.RunConfigLoader;
import io.micronaut.context.annotation.Prototype;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bond run --config FILE [--out DIR] [--resume]}: J-BOND (or the configured objective) on
 * the user's models, prompts and endpoints, as configured in one YAML or JSON file (README lists
 * every key).
 */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = "Align a policy as a run configuration (YAML or JSON) says.")
@Prototype
public final class RunCommand implements Callable<Integer> {
  private final RunConfigLoader loader;
  private final RunLauncher launcher;

  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  @Option(names = "--config", required = true, description = "The run configuration file.")
  Path config;

  @Option(
      names = "--out",
      description = "The run folder (default: a new folder under runs/ named by command and time).")
  Path out;

  @Option(names = "--resume", description = "Continue the run in --out from its newest checkpoint.")
  boolean resume;

  @Option(names = "--print-config", description = "Print the resolved configuration and exit.")
  boolean printConfig;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description =
          "Override one key of the file (repeatable), e.g. --set objective.kl-coefficient=0.1.")
  List<String> overrides = new ArrayList<>();

  RunCommand(RunConfigLoader loader, RunLauncher launcher) {
    this.loader = loader;
    this.launcher = launcher;
  }

  @Override
  public Integer call() throws Exception {
    RunConfig resolved = loader.load(config, Path.of("").toAbsolutePath(), overrides);
    if (printConfig) {
      RunLauncher.print(resolved, spec.commandLine().getOut());
      return 0;
    }
    return launcher.launch(
        "run",
        resolved,
        out,
        resume,
        "bond run --config "
            + config
            + overrides.stream().map(o -> " --set " + o).reduce("", String::concat)
            + " --out %s --resume",
        spec.commandLine().getOut(),
        spec.commandLine().getErr());
  }
}
