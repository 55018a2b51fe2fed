/**
 * The run report: {@link dev.jbond.orchestrator.report.RunReport} reads one or more run directories
 * ({@code config.yaml}, {@code metrics.jsonl}, {@code eval.jsonl}) and writes a self-contained
 * {@code report.html} with PNG plots of the reward quantile and KL against the Best-of-N frontier,
 * the training curves and the time per step; {@code bond report} is its command.
 */
package dev.jbond.orchestrator.report;
