package dev.jbond.orchestrator.report;

import java.util.Objects;
import org.knowm.xchart.XYChart;

/**
 * One plot of a report: the PNG's file name, the chart drawn into it and the caption under it.
 *
 * @param file the PNG's file name in the report's directory
 * @param chart the chart
 * @param caption what the plot shows, one or two sentences
 */
record Figure(String file, XYChart chart, String caption) {
  Figure {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(chart, "chart");
    Objects.requireNonNull(caption, "caption");
  }
}
