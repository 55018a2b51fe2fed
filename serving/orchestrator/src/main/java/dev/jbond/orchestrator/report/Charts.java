package dev.jbond.orchestrator.report;

import dev.jbond.metrics.StepMetrics;
import dev.jbond.orchestrator.eval.EvalResult;
import dev.jbond.orchestrator.run.RunEngine;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.font.FontRenderContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.XYSeries.XYSeriesRenderStyle;
import org.knowm.xchart.style.AxesChartStyler.TextAlignment;
import org.knowm.xchart.style.Styler.LegendLayout;
import org.knowm.xchart.style.Styler.LegendPosition;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The report's charts (XChart), all {@value #WIDTH} x {@value #HEIGHT} pixels, with the legend
 * below the plot (in the frontier's empty lower right corner). Run {@code i} of a report has colour
 * {@link #runColor(int)} in every chart; the Best-of-N references (BOND paper, section 2; {@code
 * docs/bond-algorithm.md}, section 1) are grey: quantile N/(N+1) and KL(pi_BoN || pi_ref) = log N -
 * (N-1)/N.
 */
final class Charts {
  /** Width of every chart, pixels. */
  static final int WIDTH = 800;

  /** Height of every chart, pixels. */
  static final int HEIGHT = 500;

  /** The N of the Best-of-N reference lines and marks. */
  static final List<Integer> BEST_OF = List.of(2, 4, 8, 16);

  /** The largest N of the frontier curve. */
  static final int FRONTIER_MAX_N = 64;

  /** The order of the time phases in the step-time chart; other phases follow, sorted. */
  static final List<String> PHASES = RunEngine.PHASES;

  /** The timing that is the whole step, left out of the phase chart. */
  static final String TOTAL = "total";

  private static final Color[] RUN_COLORS = {
    new Color(0x1f77b4),
    new Color(0xd62728),
    new Color(0x2ca02c),
    new Color(0xff7f0e),
    new Color(0x9467bd),
    new Color(0x8c564b),
    new Color(0xe377c2),
    new Color(0x17becf),
    new Color(0xbcbd22),
    new Color(0x7f7f7f)
  };

  private static final Color[] PHASE_COLORS = {
    new Color(0x4e79a7),
    new Color(0xf28e2b),
    new Color(0xe15759),
    new Color(0x76b7b2),
    new Color(0x59a14f),
    new Color(0xedc948),
    new Color(0xb07aa1),
    new Color(0xff9da7),
    new Color(0x9c755f),
    new Color(0xbab0ac)
  };

  private static final Color REFERENCE = new Color(0x7a7a7a);
  private static final Color REFERENCE_TEXT = new Color(0x555555);
  private static final Color ANCHOR = new Color(0xff7f0e);
  private static final BasicStroke DASHED =
      new BasicStroke(
          1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f);
  private static final BasicStroke DOTTED =
      new BasicStroke(
          1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {2f, 3f}, 0f);
  private static final BasicStroke THIN = new BasicStroke(1f);
  private static final BasicStroke NORMAL = new BasicStroke(2f);
  private static final BasicStroke BOLD = new BasicStroke(2.5f);
  private static final int FAINT_ALPHA = 80;

  /** Where the labels of horizontal reference lines are centred, as a fraction of the x axis. */
  private static final double LABEL_X = 0.065;

  private static final Font LEGEND_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);

  /** The width of a legend entry beyond its text, pixels: line sample and gaps. */
  private static final int LEGEND_ENTRY_EXTRA = 50;

  private static final String QUANTILE_AXIS =
      "Reward quantile vs π_ref (fraction of π_ref samples beaten)";
  private static final String KL_AXIS = "KL(π ‖ π_ref), nats";
  private static final String STEP_AXIS = "Training step";

  /** Tick labels of unbounded quantities: no needless decimals, a leading zero. */
  private static final String PLAIN = "#,##0.###";

  /** The name of {@link #stepChart}'s invisible tick helper. */
  private static final String TICKS = " ticks";

  private Charts() {}

  /**
   * Returns the colour of the report's run {@code index}.
   *
   * @param index the run's position in the report, from 0
   * @return the colour; colours repeat after ten runs
   */
  static Color runColor(int index) {
    return RUN_COLORS[Math.floorMod(index, RUN_COLORS.length)];
  }

  /** Returns the colour as CSS {@code #rrggbb}. */
  static String css(Color color) {
    return String.format(Locale.ROOT, "#%06x", color.getRGB() & 0xffffff);
  }

  /** Best-of-N's expected reward quantile under pi_ref, N/(N+1). */
  static double bestOfNQuantile(double n) {
    return n / (n + 1);
  }

  /**
   * Returns the moving-average window for {@code count} points: about 5% of them, at least 1.
   *
   * @param count the points
   * @return the window, odd so that it is centred
   */
  static int window(int count) {
    int w = (int) Math.round(count * 0.05);
    return w <= 1 ? 1 : w | 1;
  }

  /**
   * Returns the centred moving average of {@code values}: at each index the mean of the finite
   * values within {@code window / 2} on either side (fewer at the ends); NaN where there are none.
   *
   * @param values the values
   * @param window the window, at least 1
   * @return the averages, as many as values
   */
  static double[] movingAverage(double[] values, int window) {
    int half = Math.max(0, window / 2);
    double[] out = new double[values.length];
    for (int i = 0; i < values.length; i++) {
      double sum = 0;
      int n = 0;
      for (int j = Math.max(0, i - half); j <= Math.min(values.length - 1, i + half); j++) {
        if (Double.isFinite(values[j])) {
          sum += values[j];
          n++;
        }
      }
      out[i] = n == 0 ? Double.NaN : sum / n;
    }
    return out;
  }

  // ---------------------------------------------------------------- evaluation charts

  /**
   * The reward quantile against pi_ref per evaluation step, one line per run, with dashed Best-of-N
   * levels N/(N+1) and the reference's own level 1/2.
   */
  static XYChart quantilePerStep(List<ReportedRun> runs, double maxStep) {
    double xMax = Math.max(1, maxStep);
    XYChart chart =
        stepChart("Reward quantile against the reference per evaluation", QUANTILE_AXIS, xMax);
    double low = 0.5;
    for (ReportedRun run : runs) {
      for (EvalResult e : run.evals()) {
        if (Double.isFinite(e.quantileVsReference())) {
          low = Math.min(low, e.quantileVsReference());
        }
      }
    }
    double yMin = Math.max(0, Math.floor((low - 0.04) * 20) / 20);
    chart.getStyler().setYAxisMin(yMin).setYAxisMax(1.0).setYAxisDecimalPattern("0.00");
    double labelDy = (1.0 - yMin) * 0.028;
    horizontalLine(chart, "reference", 0.5, 0, xMax, DOTTED);
    chart.addAnnotation(lineLabel("π_ref (0.5)", xMax * LABEL_X, 0.5 + labelDy));
    for (int n : BEST_OF) {
      double q = bestOfNQuantile(n);
      horizontalLine(chart, "Best-of-" + n, q, 0, xMax, DASHED);
      chart.addAnnotation(lineLabel("Best-of-" + n, xMax * LABEL_X, q + labelDy));
    }
    for (int i = 0; i < runs.size(); i++) {
      ReportedRun run = runs.get(i);
      evalSeries(chart, run.label(), run.evals(), EvalResult::quantileVsReference, runColor(i));
    }
    return finish(chart);
  }

  /**
   * KL(pi || pi_ref) per evaluation step, one line per run, with dashed Best-of-N levels log N -
   * (N-1)/N; with {@code trainingSteps}, also each run's per-training-step estimate as a faint
   * line.
   */
  static XYChart klPerStep(List<ReportedRun> runs, double maxStep, boolean trainingSteps) {
    double xMax = Math.max(1, maxStep);
    XYChart chart = stepChart("KL divergence to the reference per evaluation", KL_AXIS, xMax);
    double high = EvalResult.frontierKl(BEST_OF.get(BEST_OF.size() - 1));
    double low = 0;
    for (ReportedRun run : runs) {
      for (EvalResult e : run.evals()) {
        if (Double.isFinite(e.klReference())) {
          high = Math.max(high, e.klReference());
          low = Math.min(low, e.klReference());
        }
      }
      if (trainingSteps) {
        for (StepMetrics m : run.metrics()) {
          if (Double.isFinite(m.klReference())) {
            high = Math.max(high, m.klReference());
            low = Math.min(low, m.klReference());
          }
        }
      }
    }
    double yMax = high * 1.06;
    double yMin = low < 0 ? low - 0.03 * (yMax - low) : 0;
    chart.getStyler().setYAxisMin(yMin).setYAxisMax(yMax).setYAxisDecimalPattern("0.00");
    double labelDy = (yMax - yMin) * 0.028;
    for (int n : BEST_OF) {
      double kl = EvalResult.frontierKl(n);
      horizontalLine(chart, "Best-of-" + n, kl, 0, xMax, DASHED);
      chart.addAnnotation(lineLabel("Best-of-" + n, xMax * LABEL_X, kl + labelDy));
    }
    for (int i = 0; i < runs.size(); i++) {
      ReportedRun run = runs.get(i);
      Color color = runColor(i);
      if (trainingSteps) {
        XYSeries faint =
            stepSeries(
                chart,
                run.label() + ", per training step",
                run.metrics(),
                StepMetrics::klReference,
                1);
        if (faint != null) {
          // faint beside the evaluations, the main line without them
          styleLine(faint, run.evals().isEmpty() ? color : faint(color), THIN);
        }
      }
      evalSeries(chart, run.label(), run.evals(), EvalResult::klReference, color);
    }
    return finish(chart);
  }

  /**
   * The reward quantile against KL(pi || pi_ref): each run's evaluations joined in step order,
   * against the Best-of-N curve (N from 1 to {@value #FRONTIER_MAX_N}) with N = 2, 4, 8, 16 marked
   * (BOND paper, figure 7).
   */
  static XYChart frontier(List<ReportedRun> runs) {
    XYChart chart =
        newChart(
            "Reward quantile against KL to the reference (Best-of-N frontier)",
            KL_AXIS,
            QUANTILE_AXIS);
    double xMax = EvalResult.frontierKl(FRONTIER_MAX_N);
    double xMin = 0;
    double yLow = 0.5;
    for (ReportedRun run : runs) {
      for (EvalResult e : run.evals()) {
        if (Double.isFinite(e.klReference()) && Double.isFinite(e.quantileVsReference())) {
          xMax = Math.max(xMax, e.klReference());
          xMin = Math.min(xMin, e.klReference());
          yLow = Math.min(yLow, e.quantileVsReference());
        }
      }
    }
    xMax *= 1.04;
    if (xMin < 0) {
      xMin -= 0.02 * (xMax - xMin);
    }
    double yMin = Math.max(0, Math.floor((yLow - 0.04) * 20) / 20);
    XYStyler styler = chart.getStyler();
    styler.setXAxisMin(xMin).setXAxisMax(xMax).setYAxisMin(yMin).setYAxisMax(1.0);
    styler.setXAxisDecimalPattern("0.0");
    styler.setYAxisDecimalPattern("0.00");

    int points = 200;
    double[] x = new double[points];
    double[] y = new double[points];
    for (int i = 0; i < points; i++) {
      double n = Math.pow(FRONTIER_MAX_N, i / (double) (points - 1));
      x[i] = EvalResult.frontierKl(n);
      y[i] = bestOfNQuantile(n);
    }
    XYSeries curve = chart.addSeries("Best-of-N (N = 1 to " + FRONTIER_MAX_N + ")", x, y);
    styleLine(curve, REFERENCE, NORMAL);
    double[] markX = new double[BEST_OF.size()];
    double[] markY = new double[BEST_OF.size()];
    double dx = (xMax - xMin) * 0.012;
    double dy = (1.0 - yMin) * 0.035;
    for (int i = 0; i < BEST_OF.size(); i++) {
      markX[i] = EvalResult.frontierKl(BEST_OF.get(i));
      markY[i] = bestOfNQuantile(BEST_OF.get(i));
      chart.addAnnotation(lineLabel("N=" + BEST_OF.get(i), markX[i] + 3 * dx, markY[i] - dy));
    }
    XYSeries marks = chart.addSeries("Best-of-N at N = 2, 4, 8, 16", markX, markY);
    marks.setXYSeriesRenderStyle(XYSeriesRenderStyle.Scatter);
    marks.setMarker(SeriesMarkers.DIAMOND);
    marks.setMarkerColor(REFERENCE);
    marks.setShowInLegend(false);

    for (int i = 0; i < runs.size(); i++) {
      ReportedRun run = runs.get(i);
      List<double[]> pts = new ArrayList<>();
      long lastStep = 0;
      for (EvalResult e : run.evals()) {
        if (Double.isFinite(e.klReference()) && Double.isFinite(e.quantileVsReference())) {
          pts.add(new double[] {e.klReference(), e.quantileVsReference()});
          lastStep = e.step();
        }
      }
      if (pts.isEmpty()) {
        continue;
      }
      XYSeries series = chart.addSeries(run.label(), column(pts, 0), column(pts, 1));
      styleLine(series, runColor(i), NORMAL);
      series.setMarker(SeriesMarkers.CIRCLE);
      series.setMarkerColor(runColor(i));
      if (runs.size() == 1) {
        double[] last = pts.get(pts.size() - 1);
        chart.addAnnotation(lineLabel("step " + lastStep, last[0], last[1] + dy));
      }
    }
    // below the curve, right of the steepest part: the corner that Best-of-N-like runs leave empty
    chart.getStyler().setLegendPosition(LegendPosition.InsideSE);
    chart.getStyler().setLegendLayout(LegendLayout.Vertical);
    chart.getStyler().setLegendBorderColor(new Color(0xDDDDDD));
    return chart;
  }

  // ---------------------------------------------------------------- training charts

  /** Policy and anchor reward per training step: raw (thin, faint) and moving average. */
  static XYChart rewardPerStep(ReportedRun run, double maxStep, Color policyColor) {
    int w = window(run.metrics().size());
    XYChart chart =
        stepChart("Reward per training step" + averaged(w), "Mean reward", Math.max(1, maxStep));
    chart.getStyler().setYAxisDecimalPattern(PLAIN);
    rawAndAverage(chart, "policy", run.metrics(), StepMetrics::rewardMean, w, policyColor);
    rawAndAverage(chart, "anchor", run.metrics(), StepMetrics::anchorRewardMean, w, ANCHOR);
    return finish(chart);
  }

  /** KL(pi || pi_anchor) per training step: raw (thin, faint) and moving average. */
  static XYChart anchorKlPerStep(ReportedRun run, double maxStep, Color color) {
    int w = window(run.metrics().size());
    XYChart chart =
        stepChart(
            "KL divergence to the anchor per training step" + averaged(w),
            "KL(π ‖ π_anchor), nats",
            Math.max(1, maxStep));
    chart.getStyler().setYAxisDecimalPattern(PLAIN);
    rawAndAverage(chart, "KL to the anchor", run.metrics(), StepMetrics::klAnchor, w, color);
    return finish(chart);
  }

  /** Policy reward per training step of several runs: the moving average of each. */
  static XYChart rewardPerStep(List<ReportedRun> runs, double maxStep) {
    int w = 1;
    for (ReportedRun run : runs) {
      w = Math.max(w, window(run.metrics().size()));
    }
    XYChart chart =
        stepChart(
            "Policy reward per training step" + averaged(w), "Mean reward", Math.max(1, maxStep));
    chart.getStyler().setYAxisDecimalPattern(PLAIN);
    for (int i = 0; i < runs.size(); i++) {
      ReportedRun run = runs.get(i);
      XYSeries s = stepSeries(chart, run.label(), run.metrics(), StepMetrics::rewardMean, w);
      if (s != null) {
        styleLine(s, runColor(i), NORMAL);
      }
    }
    return finish(chart);
  }

  /**
   * Returns the phases of the step-time chart present in {@code metrics}: the known ones in {@link
   * #PHASES} order, then the others sorted; never {@value #TOTAL}.
   */
  static List<String> phases(List<StepMetrics> metrics) {
    TreeSet<String> present = new TreeSet<>();
    for (StepMetrics m : metrics) {
      for (Map.Entry<String, Double> t : m.timings().entrySet()) {
        if (!t.getKey().equals(TOTAL) && Double.isFinite(t.getValue())) {
          present.add(t.getKey());
        }
      }
    }
    List<String> ordered = new ArrayList<>();
    for (String phase : PHASES) {
      if (present.remove(phase)) {
        ordered.add(phase);
      }
    }
    ordered.addAll(present);
    return ordered;
  }

  /**
   * Time per training step split by phase, stacked in {@link #phases} order from the bottom, each
   * phase's moving average; seconds when the steps take more than ten seconds, else milliseconds.
   */
  static XYChart stepTime(ReportedRun run, double maxStep) {
    List<StepMetrics> metrics = run.metrics();
    List<String> phases = phases(metrics);
    int w = window(metrics.size());
    int count = metrics.size();
    double[][] tops = new double[phases.size()][];
    double[] sum = new double[count];
    double peak = 0;
    for (int p = 0; p < phases.size(); p++) {
      double[] ms = new double[count];
      for (int i = 0; i < count; i++) {
        Double v = metrics.get(i).timings().get(phases.get(p));
        ms[i] = v == null || !Double.isFinite(v) ? 0 : v;
      }
      double[] average = movingAverage(ms, w);
      tops[p] = new double[count];
      for (int i = 0; i < count; i++) {
        sum[i] += average[i];
        tops[p][i] = sum[i];
        peak = Math.max(peak, sum[i]);
      }
    }
    boolean seconds = peak > 10_000;
    double unit = seconds ? 1e-3 : 1;
    XYChart chart =
        stepChart(
            "Time per training step by phase" + averaged(w),
            seconds ? "Seconds per step (stacked)" : "Milliseconds per step (stacked)",
            Math.max(1, maxStep));
    chart.getStyler().setYAxisMin(0.0).setYAxisMax(Math.max(peak, 1e-9) * unit * 1.08);
    // each phase is a closed band between the phases below it and itself, so the legend lists
    // the phases bottom first
    for (int p = 0; p < phases.size(); p++) {
      double[] x = new double[2 * count];
      double[] y = new double[2 * count];
      for (int i = 0; i < count; i++) {
        x[i] = metrics.get(i).step();
        y[i] = tops[p][i] * unit;
        x[2 * count - 1 - i] = x[i];
        y[2 * count - 1 - i] = p == 0 ? 0 : tops[p - 1][i] * unit;
      }
      XYSeries band = chart.addSeries(phases.get(p), x, y);
      band.setXYSeriesRenderStyle(XYSeriesRenderStyle.PolygonArea);
      Color color = PHASE_COLORS[p % PHASE_COLORS.length];
      band.setFillColor(color);
      band.setLineColor(color);
      band.setLineStyle(THIN);
      band.setMarker(SeriesMarkers.NONE);
    }
    return finish(chart);
  }

  // ---------------------------------------------------------------- helpers

  private static XYChart newChart(String title, String xTitle, String yTitle) {
    XYChart chart =
        new XYChartBuilder()
            .width(WIDTH)
            .height(HEIGHT)
            .title(title)
            .xAxisTitle(xTitle)
            .yAxisTitle(yTitle)
            .build();
    XYStyler s = chart.getStyler();
    s.setDefaultSeriesRenderStyle(XYSeriesRenderStyle.Line);
    s.setChartBackgroundColor(Color.WHITE);
    s.setPlotBackgroundColor(Color.WHITE);
    s.setPlotBorderColor(new Color(0xBBBBBB));
    s.setPlotGridLinesColor(new Color(0xE8E8E8));
    s.setPlotGridLinesStroke(new BasicStroke(1f));
    s.setLegendPosition(LegendPosition.OutsideS);
    s.setLegendLayout(LegendLayout.Horizontal);
    s.setLegendBorderColor(Color.WHITE);
    s.setLegendBackgroundColor(Color.WHITE);
    s.setChartTitleBoxVisible(false);
    s.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
    s.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
    s.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    s.setLegendFont(LEGEND_FONT);
    s.setYAxisLabelAlignment(TextAlignment.Right);
    s.setAnnotationTextFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    s.setAnnotationTextFontColor(REFERENCE_TEXT);
    s.setChartFontColor(new Color(0x222222));
    s.setMarkerSize(7);
    s.setChartPadding(12);
    s.setLocale(Locale.ROOT);
    s.setAntiAlias(true);
    return chart;
  }

  /**
   * A chart over training steps 0 to {@code xMax}. XChart 4 places the x ticks on the data's own x
   * values when they are equally spaced (1, 2, ..., 1000 gets a tick every 33 steps); an invisible
   * first series at 0 and {@code xMax} breaks that spacing, so the ticks are round numbers.
   */
  private static XYChart stepChart(String title, String yTitle, double xMax) {
    XYChart chart = newChart(title, STEP_AXIS, yTitle);
    chart.getStyler().setXAxisMin(0.0).setXAxisMax(xMax).setXAxisDecimalPattern("#,##0");
    XYSeries ticks = chart.addSeries(TICKS, new double[] {0, xMax}, new double[] {0, 0});
    ticks.setXYSeriesRenderStyle(XYSeriesRenderStyle.Scatter);
    ticks.setMarker(SeriesMarkers.NONE);
    ticks.setShowInLegend(false);
    return chart;
  }

  /**
   * Gives the tick helper of {@link #stepChart} a y value within the data (so that it does not
   * stretch the y axis), and lists the legend vertically when one row would be too long for the
   * chart's width.
   */
  private static XYChart finish(XYChart chart) {
    double legendWidth = 0;
    FontRenderContext context = new FontRenderContext(null, true, true);
    double yLow = Double.POSITIVE_INFINITY;
    for (XYSeries series : chart.getSeriesCollection()) {
      if (series.getName().equals(TICKS)) {
        continue;
      }
      if (series.isShowInLegend()) {
        legendWidth +=
            LEGEND_FONT.getStringBounds(series.getName(), context).getWidth() + LEGEND_ENTRY_EXTRA;
      }
      for (double y : series.getYData()) {
        if (Double.isFinite(y)) {
          yLow = Math.min(yLow, y);
        }
      }
    }
    XYSeries ticks = chart.getSeries(TICKS);
    if (ticks != null && Double.isFinite(yLow)) {
      chart.updateXYSeries(TICKS, ticks.getXData(), new double[] {yLow, yLow}, null);
    }
    if (legendWidth > WIDTH - 60) {
      chart.getStyler().setLegendLayout(LegendLayout.Vertical);
    }
    return chart;
  }

  private static String averaged(int window) {
    return window > 1 ? " (moving average over " + window + " steps)" : "";
  }

  private static void horizontalLine(
      XYChart chart, String name, double y, double x0, double x1, BasicStroke stroke) {
    XYSeries s = chart.addSeries(name, new double[] {x0, x1}, new double[] {y, y});
    styleLine(s, REFERENCE, stroke);
    s.setShowInLegend(false);
  }

  private static AnnotationText lineLabel(String text, double x, double y) {
    return new AnnotationText(text, x, y, false);
  }

  private static void styleLine(XYSeries series, Color color, BasicStroke stroke) {
    series.setLineColor(color);
    series.setLineStyle(stroke);
    series.setMarker(SeriesMarkers.NONE);
  }

  private static Color faint(Color color) {
    return new Color(color.getRed(), color.getGreen(), color.getBlue(), FAINT_ALPHA);
  }

  private static void evalSeries(
      XYChart chart,
      String name,
      List<EvalResult> evals,
      ToDoubleFunction<EvalResult> value,
      Color color) {
    List<double[]> pts = new ArrayList<>();
    for (EvalResult e : evals) {
      double v = value.applyAsDouble(e);
      if (Double.isFinite(v)) {
        pts.add(new double[] {e.step(), v});
      }
    }
    if (pts.isEmpty()) {
      return;
    }
    XYSeries s = chart.addSeries(name, column(pts, 0), column(pts, 1));
    styleLine(s, color, NORMAL);
    s.setMarker(SeriesMarkers.CIRCLE);
    s.setMarkerColor(color);
  }

  /** A per-step series of the finite values' moving average; null when there are none. */
  private static XYSeries stepSeries(
      XYChart chart,
      String name,
      List<StepMetrics> metrics,
      ToDoubleFunction<StepMetrics> value,
      int window) {
    double[] raw = new double[metrics.size()];
    for (int i = 0; i < raw.length; i++) {
      raw[i] = value.applyAsDouble(metrics.get(i));
    }
    double[] values = window > 1 ? movingAverage(raw, window) : raw;
    List<double[]> pts = new ArrayList<>();
    for (int i = 0; i < values.length; i++) {
      if (Double.isFinite(raw[i]) && Double.isFinite(values[i])) {
        pts.add(new double[] {metrics.get(i).step(), values[i]});
      }
    }
    if (pts.isEmpty()) {
      return null;
    }
    return chart.addSeries(name, column(pts, 0), column(pts, 1));
  }

  private static void rawAndAverage(
      XYChart chart,
      String name,
      List<StepMetrics> metrics,
      ToDoubleFunction<StepMetrics> value,
      int window,
      Color color) {
    if (window <= 1) {
      XYSeries only = stepSeries(chart, name, metrics, value, 1);
      if (only != null) {
        styleLine(only, color, NORMAL);
      }
      return;
    }
    XYSeries raw = stepSeries(chart, name + ", per step", metrics, value, 1);
    if (raw == null) {
      return;
    }
    styleLine(raw, faint(color), THIN);
    XYSeries average = stepSeries(chart, name + ", moving average", metrics, value, window);
    styleLine(average, color, BOLD);
  }

  private static double[] column(List<double[]> points, int index) {
    double[] out = new double[points.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = points.get(i)[index];
    }
    return out;
  }
}
