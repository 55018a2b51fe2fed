/**
 * The run engine: J-BOND (or another objective) end to end over Triton's protocol, with the run
 * folder, checkpoints that carry the run's state, resume, stop signals and step retries.
 */
package dev.jbond.orchestrator.run;
