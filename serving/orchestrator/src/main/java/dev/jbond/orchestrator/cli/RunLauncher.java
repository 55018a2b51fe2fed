package dev.jbond.orchestrator.cli;

import dev.jbond.orchestrator.config.ConfigYaml;
import dev.jbond.orchestrator.config.RunConfig;
import dev.jbond.orchestrator.report.RunReport;
import dev.jbond.orchestrator.run.ReportWriter;
import dev.jbond.orchestrator.run.RunDirectory;
import dev.jbond.orchestrator.run.RunEngine;
import dev.jbond.orchestrator.run.RunOutcome;
import dev.jbond.orchestrator.run.StopSignal;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.Objects;

/**
 * What {@code bond run} and {@code bond demo} share: the run folder (a new one under {@code runs/}
 * unless {@code --out} names one), SIGTERM / Ctrl-C as a clean stop, the live progress line and the
 * summary.
 */
@Singleton
final class RunLauncher {
  private final RunEngine engine;

  RunLauncher(RunEngine engine) {
    this.engine = Objects.requireNonNull(engine, "engine");
  }

  /**
   * Runs a configuration.
   *
   * @param command the command's name, for a fresh folder's name
   * @param config the resolved configuration
   * @param out the run folder, or null for a new one under {@code runs/}
   * @param resume whether to continue the folder's run
   * @param resumeCommand what to type to resume, with {@code %s} for the folder
   * @param console where progress goes
   * @param errors where notes about the policy go (stderr)
   * @return the exit code
   * @throws IOException when the run's files cannot be read or written
   */
  int launch(
      String command,
      RunConfig config,
      Path out,
      boolean resume,
      String resumeCommand,
      PrintWriter console,
      PrintWriter errors)
      throws IOException {
    if (resume && out == null) {
      throw new IllegalArgumentException(
          "Expected --out DIR with --resume (the folder of the run to continue), found none");
    }
    RunDirectory dir =
        out == null
            ? RunDirectory.fresh(Path.of("runs"), command, LocalDateTime.now())
            : new RunDirectory(out);
    String resumeLine = String.format(resumeCommand, dir.root());
    ReportWriter report = RunReport::write;
    ProgressPrinter progress = new ProgressPrinter(console, errors, System.console() != null);
    try (StopSignal stop = StopSignal.onSignals()) {
      stop.onRequest(
          () -> {
            console.println();
            console.println(
                "Stopping after the current step (a checkpoint follows); signal again to abort.");
            console.flush();
          });
      RunOutcome outcome =
          engine.run(
              new RunEngine.Request(config, dir, resume, resumeLine, report), stop, progress);
      progress.summary(outcome, resumeLine);
    }
    return 0;
  }

  /** Prints a configuration as the YAML {@code bond run --config} reads. */
  static void print(RunConfig config, PrintWriter out) {
    out.print(ConfigYaml.write(config));
    out.flush();
  }
}
