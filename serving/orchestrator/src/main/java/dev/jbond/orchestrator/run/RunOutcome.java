package dev.jbond.orchestrator.run;

import dev.jbond.orchestrator.eval.EvalResult;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * How a run ended.
 *
 * @param status finished or stopped (failures are thrown)
 * @param step the learner's step count at the end
 * @param totalSteps the steps the run was to take
 * @param checkpointStep the step of the checkpoint written at the end
 * @param lastEval the last evaluation, if any
 * @param report the report, when one was written
 * @param export the exported final models, when the run finished
 * @param seconds wall time of this invocation
 */
public record RunOutcome(
    Status status,
    long step,
    int totalSteps,
    long checkpointStep,
    Optional<EvalResult> lastEval,
    Optional<Path> report,
    Optional<Path> export,
    double seconds) {
  /** How the run ended. */
  public enum Status {
    /** It took all its steps. */
    FINISHED,
    /** A stop was requested; it checkpointed and can be resumed. */
    STOPPED
  }

  /**
   * Validates the components.
   *
   * @param status see the record description
   * @param step see the record description
   * @param totalSteps see the record description
   * @param checkpointStep see the record description
   * @param lastEval see the record description
   * @param report see the record description
   * @param export see the record description
   * @param seconds see the record description
   */
  public RunOutcome {
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(lastEval, "lastEval");
    Objects.requireNonNull(report, "report");
    Objects.requireNonNull(export, "export");
  }
}
