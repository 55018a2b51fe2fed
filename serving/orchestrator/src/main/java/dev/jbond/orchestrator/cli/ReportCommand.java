package dev.jbond.orchestrator.cli;

import dev.jbond.orchestrator.report.RunReport;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code bond report}: writes the run report ({@link RunReport}) of one run directory, or the
 * comparison of several, as {@code report.html} and its PNG plots into {@code --out}, and prints
 * the report's path.
 */
@Command(
    name = "report",
    mixinStandardHelpOptions = true,
    description =
        "Write report.html and its PNG plots for a run directory (several: a comparison on one"
            + " Best-of-N frontier).")
public final class ReportCommand implements Callable<Integer> {
  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  @Parameters(
      arity = "1..*",
      paramLabel = "RUN_DIR",
      description = "Run directories (config.yaml, metrics.jsonl, eval.jsonl).")
  List<Path> runs;

  @Option(
      names = "--out",
      required = true,
      paramLabel = "DIR",
      description = "Directory for report.html and its PNGs; created when missing.")
  Path out;

  @Override
  public Integer call() throws Exception {
    Path report = RunReport.write(runs, out);
    spec.commandLine().getOut().println(report);
    return 0;
  }
}
