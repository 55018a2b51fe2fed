package dev.jbond.orchestrator.cli;

import dev.jbond.PolicyRole;
import dev.jbond.checkpoint.FileCheckpointStore;
import dev.jbond.loop.JbondLoop;
import dev.jbond.models.policy.PolicyFiles;
import dev.jbond.onnx.train.OrtPolicyLearner;
import dev.jbond.orchestrator.config.RunConfig;
import dev.jbond.orchestrator.config.RunConfigLoader;
import dev.jbond.orchestrator.export.Exporter;
import dev.jbond.orchestrator.run.RunComponents;
import dev.jbond.orchestrator.run.RunDirectory;
import io.micronaut.context.annotation.Prototype;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bond export --run DIR [--step S] --role policy|anchor --out DIR}: a checkpoint's weights
 * as an ONNX model and as a Triton model repository whose every {@code config.pbtxt} lists its
 * inputs and outputs ({@link Exporter}).
 */
@Command(
    name = "export",
    mixinStandardHelpOptions = true,
    description =
        "Export a run checkpoint's policy or anchor as ONNX and as a Triton model repository.")
@Prototype
public final class ExportCommand implements Callable<Integer> {
  private final RunConfigLoader loader;

  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  @Option(names = "--run", required = true, description = "The run folder.")
  Path run;

  @Option(names = "--step", description = "The checkpoint's step (default: the newest).")
  Long step;

  @Option(
      names = "--role",
      required = true,
      description = "Which weights: policy or anchor.",
      converter = RoleConverter.class)
  PolicyRole role;

  @Option(names = "--out", required = true, description = "The export directory (replaced).")
  Path out;

  ExportCommand(RunConfigLoader loader) {
    this.loader = loader;
  }

  @Override
  public Integer call() throws Exception {
    RunDirectory dir = new RunDirectory(run);
    if (!Files.isRegularFile(dir.config())) {
      throw new IllegalArgumentException(
          "Expected a run folder with config.yaml, found none in " + run.toAbsolutePath());
    }
    List<Long> steps = dir.checkpointSteps();
    if (steps.isEmpty()) {
      throw new IllegalArgumentException(
          "Expected checkpoints in " + dir.checkpoints() + ", found none");
    }
    long chosen = step == null ? steps.get(steps.size() - 1) : step;
    if (!steps.contains(chosen)) {
      throw new IllegalArgumentException(
          "Expected the step of a checkpoint, one of " + steps + ", found " + chosen);
    }
    RunConfig config = loader.load(dir.config(), dir.root());
    PolicyFiles policy = PolicyFiles.open(Path.of(config.policy().model()));
    String name =
        role == PolicyRole.POLICY
            ? config.serving().models().policy()
            : config.serving().models().anchor();
    try (OrtPolicyLearner learner = RunComponents.openLearner(policy, config, false)) {
      JbondLoop.restoreLearner(
          FileCheckpointStore.open(dir.checkpoints(), Integer.MAX_VALUE), chosen, learner);
      Exporter.exportOne(learner, role, policy, name, out, Exporter.loraDtype(config));
    }
    spec.commandLine()
        .getOut()
        .printf(
            Locale.ROOT,
            "Exported the %s of step %d to %s: %s/model.onnx and the Triton repository %s"
                + " (models %s, %s-logits)%n",
            role.label(),
            chosen,
            out,
            out.resolve(role.label()),
            out.resolve("repository"),
            name,
            name);
    return 0;
  }

  /** Reads {@code policy} or {@code anchor}. */
  static final class RoleConverter implements CommandLine.ITypeConverter<PolicyRole> {
    @Override
    public PolicyRole convert(String value) {
      return switch (value.toLowerCase(Locale.ROOT)) {
        case "policy" -> PolicyRole.POLICY;
        case "anchor" -> PolicyRole.ANCHOR;
        default ->
            throw new CommandLine.TypeConversionException(
                "expected policy or anchor, found '" + value + "'");
      };
    }
  }
}
