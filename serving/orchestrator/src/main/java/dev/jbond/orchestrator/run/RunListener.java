package dev.jbond.orchestrator.run;

import dev.jbond.metrics.StepMetrics;
import dev.jbond.orchestrator.eval.EvalResult;
import java.util.List;

/**
 * Hears what a run does, on the run's thread: for progress lines, dashboards and metrics. Every
 * method has an empty default.
 */
public interface RunListener {
  /**
   * The run is set up and about to take its first step (or its first step after resuming).
   *
   * @param info what runs and where
   */
  default void started(RunInfo info) {}

  /**
   * An evaluation finished (also the one at step 0 and on resume).
   *
   * @param result the evaluation
   */
  default void evaluated(EvalResult result) {}

  /**
   * A training step finished and its metrics were written.
   *
   * @param metrics the step's metrics
   * @param totalSteps the run's total steps
   */
  default void stepped(StepMetrics metrics, int totalSteps) {}

  /**
   * A step failed and will be tried again after a pause.
   *
   * @param step the step that failed (the learner's step count before it)
   * @param attempt the failed attempt, 1 for the first
   * @param failure why
   */
  default void retrying(long step, int attempt, RuntimeException failure) {}

  /**
   * A request to a Triton endpoint ended, on the gRPC thread that saw it end (keep it cheap).
   *
   * @param method the gRPC method, for example {@code ModelInfer} or {@code ModelStreamInfer}
   * @param outcome {@code OK}, a gRPC status code such as {@code UNAVAILABLE}, or {@code
   *     STREAM_ERROR} for an error answered in a stream
   */
  default void tritonCall(String method, String outcome) {}

  /**
   * What a run is about to do.
   *
   * @param directory the run's folder
   * @param startStep the learner's step count at the start (0, or the resumed checkpoint's step)
   * @param totalSteps the steps the run ends at
   * @param samplesPerStep samples drawn per training step (all roles)
   * @param trainPrompts training prompts
   * @param evalPrompts held-out prompts
   * @param serving where samples come from, for example {@code embedded server on 127.0.0.1:40123}
   * @param notes what the user should know about the policy, one line each: how an export's learner
   *     weights map onto its sampling graph, what sampling without a past-key/values graph costs;
   *     printed once on stderr by the command line
   */
  record RunInfo(
      RunDirectory directory,
      long startStep,
      int totalSteps,
      int samplesPerStep,
      int trainPrompts,
      int evalPrompts,
      String serving,
      List<String> notes) {
    /** Copies the notes. */
    public RunInfo {
      notes = List.copyOf(notes);
    }
  }

  /**
   * Returns a listener that hears nothing.
   *
   * @return the listener
   */
  static RunListener none() {
    return new RunListener() {};
  }
}
