package dev.jbond.orchestrator.run;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/** Writes the report of one or more runs (the run engine writes one at the end of each run). */
@FunctionalInterface
public interface ReportWriter {
  /**
   * Writes {@code report.html} and its plots.
   *
   * @param runs the run directories
   * @param out where the report goes
   * @return the report file
   * @throws IOException when a file cannot be read or written
   */
  Path write(List<Path> runs, Path out) throws IOException;
}
