package dev.jbond.orchestrator.cli;

import dev.jbond.metrics.StepMetrics;
import dev.jbond.orchestrator.eval.EvalResult;
import dev.jbond.orchestrator.run.RunListener;
import dev.jbond.orchestrator.run.RunOutcome;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * The live progress of a run on the terminal: one line per step (step / total, reward, the latest
 * evaluation's quantile against the reference and KL, KL to the anchor, samples/s, ETA), rewritten
 * in place on a terminal, else printed every 5% of the run and at each evaluation; then a summary.
 */
final class ProgressPrinter implements RunListener {
  private final PrintWriter out;
  private final PrintWriter err;
  private final boolean terminal;
  private RunInfo info;
  private EvalResult lastEval;
  private long firstStepNanos;
  private long stepsSinceStart;
  private double samplesPerSecond;
  private boolean lineOpen;

  ProgressPrinter(PrintWriter out, PrintWriter err, boolean terminal) {
    this.err = err;
    this.out = out;
    this.terminal = terminal;
  }

  @Override
  public void started(RunInfo info) {
    this.info = info;
    for (String note : info.notes()) {
      err.println(note);
    }
    err.flush();
    this.firstStepNanos = System.nanoTime();
    out.printf(
        Locale.ROOT,
        "%s %s: %d steps (from step %d), %d training and %d held-out prompts, %d samples per step,"
            + " %s%n",
        info.startStep() == 0 ? "Running" : "Resuming",
        info.directory().root(),
        info.totalSteps(),
        info.startStep(),
        info.trainPrompts(),
        info.evalPrompts(),
        info.samplesPerStep(),
        info.serving());
    out.flush();
  }

  @Override
  public void evaluated(EvalResult r) {
    lastEval = r;
    if (!terminal && r.step() == (info == null ? 0 : info.startStep())) {
      endLine();
      out.printf(
          Locale.ROOT,
          "eval @%d: quantile vs reference %.3f (Best-of-%.1f), KL(pi||ref) %.3f (frontier %.3f),"
              + " reward %.3f (reference %.3f)%n",
          r.step(),
          r.quantileVsReference(),
          r.bestOfNEquivalent(),
          r.klReference(),
          r.frontierKl(),
          r.rewardMean(),
          r.referenceRewardMean());
      out.flush();
    }
  }

  @Override
  public void stepped(StepMetrics m, int totalSteps) {
    stepsSinceStart++;
    double elapsed = (System.nanoTime() - firstStepNanos) / 1e9;
    double stepSeconds = elapsed / stepsSinceStart;
    if (info != null && stepSeconds > 0) {
      samplesPerSecond = info.samplesPerStep() / stepSeconds;
    }
    double eta = (totalSteps - m.step()) * stepSeconds;
    boolean evalStep = lastEval != null && lastEval.step() == m.step();
    long every = Math.max(1, totalSteps / 20);
    if (!terminal && !evalStep && m.step() % every != 0 && m.step() != totalSteps) {
      return;
    }
    String line =
        String.format(
            Locale.ROOT,
            "step %d/%d | reward %.3f | %s | KL anchor %.3f | %.0f samples/s | ETA %s",
            m.step(),
            totalSteps,
            m.rewardMean(),
            lastEval == null
                ? "no eval yet"
                : String.format(
                    Locale.ROOT,
                    "quantile %.3f, KL ref %.3f (eval @%d)",
                    lastEval.quantileVsReference(),
                    lastEval.klReference(),
                    lastEval.step()),
            m.klAnchor(),
            samplesPerSecond,
            duration(eta));
    if (terminal) {
      out.print("\r" + line + "\033[K");
      lineOpen = true;
    } else {
      out.println(line);
    }
    out.flush();
  }

  @Override
  public void retrying(long step, int attempt, RuntimeException failure) {
    endLine();
    out.printf(
        Locale.ROOT,
        "step %d failed (attempt %d), trying again: %s%n",
        step + 1,
        attempt,
        String.valueOf(failure.getMessage()).replace('\n', ' '));
    out.flush();
  }

  /** Prints the summary of a run that ended. */
  void summary(RunOutcome outcome, String resumeCommand) {
    endLine();
    if (outcome.status() == RunOutcome.Status.STOPPED) {
      out.printf(
          Locale.ROOT,
          "Stopped at step %d of %d (checkpoint of step %d). Continue with: %s%n",
          outcome.step(),
          outcome.totalSteps(),
          outcome.checkpointStep(),
          resumeCommand);
    } else {
      out.printf(
          Locale.ROOT, "Finished %d steps in %s.%n", outcome.step(), duration(outcome.seconds()));
    }
    outcome
        .lastEval()
        .ifPresent(
            r ->
                out.printf(
                    Locale.ROOT,
                    "Last evaluation (step %d, %d held-out prompts x %d samples): quantile vs"
                        + " reference %.3f = Best-of-%.2f, KL(pi||ref) %.3f (Best-of-N frontier"
                        + " %.3f%s), reward %.3f (reference %.3f)%n",
                    r.step(),
                    r.prompts(),
                    r.samplesPerPrompt(),
                    r.quantileVsReference(),
                    r.bestOfNEquivalent(),
                    r.klReference(),
                    r.frontierKl(),
                    r.frontierKl() > 0 && Double.isFinite(r.frontierKl())
                        ? String.format(
                            Locale.ROOT, ", ratio %.2f", r.klReference() / r.frontierKl())
                        : "",
                    r.rewardMean(),
                    r.referenceRewardMean()));
    outcome.export().ifPresent(p -> out.println("Exported policy and anchor: " + p));
    outcome.report().ifPresent(p -> out.println("Report: " + p));
    out.flush();
  }

  private void endLine() {
    if (lineOpen) {
      out.println();
      lineOpen = false;
    }
  }

  static String duration(double seconds) {
    if (!Double.isFinite(seconds) || seconds < 0) {
      return "?";
    }
    long s = Math.round(seconds);
    if (s >= 3600) {
      return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
    }
    if (s >= 60) {
      return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }
    return s + "s";
  }
}
