package dev.jbond.orchestrator.report;

import java.util.List;
import java.util.Set;

/**
 * The HTML of a report: one self-contained page (styles inline, no scripts) that shows the plots by
 * relative file name.
 */
final class ReportPage {
  /** The plots shown under "Evaluation against the reference"; the others are training plots. */
  private static final Set<String> EVALUATION_PLOTS =
      Set.of("frontier.png", "quantile.png", "kl-reference.png");

  private static final String STYLE =
      """
      body { margin: 0; background: #f6f7f9; color: #1d1f23;
        font: 15px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
      main { max-width: 880px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
      h1 { font-size: 1.6em; margin: 0.2em 0 0.1em; }
      h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #e3e5e8;
        padding-bottom: 0.2em; }
      .where { color: #5f6670; margin-top: 0; font-family: "DejaVu Sans Mono", monospace;
        font-size: 0.85em; word-break: break-all; }
      .notes { background: #fff8e1; border: 1px solid #f0d78c; border-radius: 4px;
        padding: 8px 12px 8px 30px; }
      table { border-collapse: collapse; font-size: 0.92em; }
      th, td { padding: 4px 10px; border-bottom: 1px solid #eceef1; text-align: left;
        vertical-align: top; }
      td.num { text-align: right; font-variant-numeric: tabular-nums; }
      table.summary th { font-weight: normal; color: #4a5058; }
      table.summary td { font-variant-numeric: tabular-nums; }
      table.runs thead th { background: #f1f3f5; font-size: 0.88em; }
      .swatch { display: inline-block; width: 14px; height: 14px; border-radius: 3px; }
      figure { margin: 1.4em 0; }
      figure img { max-width: 100%; height: auto; border: 1px solid #eceef1; }
      figcaption { color: #4a5058; font-size: 0.9em; max-width: 800px; }
      details { margin: 0.6em 0; }
      summary { cursor: pointer; }
      pre { background: #f6f8fa; border: 1px solid #e3e5e8; padding: 10px; overflow-x: auto;
        font-size: 0.85em; }
      """;

  private ReportPage() {}

  /** The page of one run. */
  static String singleRun(ReportedRun run, List<Figure> figures, List<String[]> summary) {
    StringBuilder html = new StringBuilder();
    head(html, "Run report: " + run.label());
    html.append("<h1>Run report: ").append(escape(run.label())).append("</h1>\n");
    html.append("<p class=\"where\">").append(escape(where(run))).append("</p>\n");
    if (!run.notes().isEmpty()) {
      html.append("<ul class=\"notes\">\n");
      for (String note : run.notes()) {
        html.append("<li>").append(escape(note)).append("</li>\n");
      }
      html.append("</ul>\n");
    }
    html.append("<h2>Summary</h2>\n<table class=\"summary\">\n<tbody>\n");
    for (String[] row : summary) {
      html.append("<tr><th scope=\"row\">")
          .append(escape(row[0]))
          .append("</th><td>")
          .append(escape(row[1]))
          .append("</td></tr>\n");
    }
    html.append("</tbody>\n</table>\n");
    figures(html, figures);
    html.append("<h2>Configuration</h2>\n");
    config(html, run, "config.yaml");
    return tail(html);
  }

  /** The page comparing several runs. */
  static String comparison(List<ReportedRun> runs, List<Figure> figures) {
    StringBuilder html = new StringBuilder();
    head(html, "Run comparison: " + runs.size() + " runs");
    html.append("<h1>Run comparison: ").append(runs.size()).append(" runs</h1>\n");
    boolean anyNotes = runs.stream().anyMatch(r -> !r.notes().isEmpty());
    if (anyNotes) {
      html.append("<ul class=\"notes\">\n");
      for (ReportedRun run : runs) {
        for (String note : run.notes()) {
          html.append("<li><strong>")
              .append(escape(run.label()))
              .append("</strong>: ")
              .append(escape(note))
              .append("</li>\n");
        }
      }
      html.append("</ul>\n");
    }
    html.append("<h2>Runs</h2>\n<table class=\"runs\">\n<thead><tr>");
    for (String heading :
        List.of(
            "",
            "Run",
            "Directory",
            "Steps",
            "Final eval step",
            "Quantile vs π_ref",
            "KL(π ‖ π_ref), nats",
            "Best-of-N KL at that quantile, nats",
            "Best-of-N equivalent",
            "Final reward (evaluation)",
            "Final reward (training, moving average)")) {
      html.append("<th scope=\"col\">").append(escape(heading)).append("</th>");
    }
    html.append("</tr></thead>\n<tbody>\n");
    for (int i = 0; i < runs.size(); i++) {
      ReportedRun run = runs.get(i);
      html.append("<tr><td><span class=\"swatch\" style=\"background:")
          .append(Charts.css(Charts.runColor(i)))
          .append("\"></span></td><td>")
          .append(escape(run.label()))
          .append("</td><td>")
          .append(escape(ReportedRun.directoryName(run.directory())))
          .append("</td>");
      for (String cell : RunReport.comparisonRow(run)) {
        html.append("<td class=\"num\">").append(escape(cell)).append("</td>");
      }
      html.append("</tr>\n");
    }
    html.append("</tbody>\n</table>\n");
    figures(html, figures);
    html.append("<h2>Configurations</h2>\n");
    for (ReportedRun run : runs) {
      config(html, run, run.label() + ": config.yaml");
    }
    return tail(html);
  }

  /**
   * Escapes text for HTML element content and quoted attribute values.
   *
   * @param text the text
   * @return the text with {@code & < > " '} replaced by references
   */
  static String escape(String text) {
    StringBuilder out = new StringBuilder(text.length() + 16);
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '&' -> out.append("&amp;");
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(c);
      }
    }
    return out.toString();
  }

  private static String where(ReportedRun run) {
    return run.directory().toAbsolutePath().normalize().toString();
  }

  private static void head(StringBuilder html, String title) {
    html.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        .append("<title>")
        .append(escape(title))
        .append("</title>\n<style>\n")
        .append(STYLE)
        .append("</style>\n</head>\n<body>\n<main>\n");
  }

  private static String tail(StringBuilder html) {
    return html.append("</main>\n</body>\n</html>\n").toString();
  }

  private static void figures(StringBuilder html, List<Figure> figures) {
    List<Figure> evaluation =
        figures.stream().filter(f -> EVALUATION_PLOTS.contains(f.file())).toList();
    List<Figure> training =
        figures.stream().filter(f -> !EVALUATION_PLOTS.contains(f.file())).toList();
    html.append("<h2>Evaluation against the reference</h2>\n");
    if (evaluation.isEmpty()) {
      html.append("<p>No evaluations yet.</p>\n");
    }
    evaluation.forEach(f -> figure(html, f));
    html.append("<h2>Training</h2>\n");
    if (training.isEmpty()) {
      html.append("<p>No training metrics yet.</p>\n");
    }
    training.forEach(f -> figure(html, f));
  }

  private static void figure(StringBuilder html, Figure f) {
    String id = f.file().substring(0, f.file().lastIndexOf('.'));
    html.append("<figure id=\"")
        .append(escape(id))
        .append("\">\n<img src=\"")
        .append(escape(f.file()))
        .append("\" width=\"")
        .append(f.chart().getWidth())
        .append("\" height=\"")
        .append(f.chart().getHeight())
        .append("\" alt=\"")
        .append(escape(f.chart().getTitle()))
        .append("\">\n<figcaption>")
        .append(escape(f.caption()))
        .append("</figcaption>\n</figure>\n");
  }

  private static void config(StringBuilder html, ReportedRun run, String summary) {
    if (run.configText().isEmpty()) {
      html.append("<p>No ")
          .append(ReportedRun.CONFIG_FILE)
          .append(" in ")
          .append(escape(where(run)))
          .append(".</p>\n");
      return;
    }
    html.append("<details>\n<summary>")
        .append(escape(summary))
        .append("</summary>\n<pre>")
        .append(escape(run.configText().get()))
        .append("</pre>\n</details>\n");
  }
}
