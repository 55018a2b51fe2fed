/**
 * Tests of the run report, and {@link dev.jbond.orchestrator.report.FakeRun}, fake run directories.
 */
package dev.jbond.orchestrator.report;
