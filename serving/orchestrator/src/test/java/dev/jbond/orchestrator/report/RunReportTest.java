package dev.jbond.orchestrator.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.orchestrator.eval.EvalResult;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The run report: every plot a valid, non-blank PNG of the chart's size; the HTML shows exactly the
 * plots that exist, the final numbers and the configuration, and needs nothing from elsewhere;
 * missing data leaves plots out instead of failing; several runs share one frontier.
 */
class RunReportTest {
  private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  private static final Pattern IMG_SRC = Pattern.compile("<img src=\"([^\"]+)\"");

  @TempDir static Path runs;
  @TempDir static Path reports;
  @TempDir Path out;

  private static Path jbond;
  private static Path jbondFast;
  private static Path reinforce;

  /** The report of {@link #jbond} alone, written once. */
  private static Path single;

  /** The report of all three runs, written once into a directory with stale plots. */
  private static Path several;

  @BeforeAll
  static void writeRunsAndReports() throws IOException {
    jbond =
        FakeRun.write(
            runs.resolve("jbond"), "name: jbond\neta: 0.02\nbeta: 0.5", 100, 10, 1.2, 0.8, 1);
    Files.writeString(
        jbond.resolve("config.yaml"),
        "# eta < 0.1 & beta = 0.5\n" + Files.readString(jbond.resolve("config.yaml")));
    jbondFast =
        FakeRun.write(
            runs.resolve("jbond-fast"), "name: jbond\neta: 0.05\nbeta: 0.5", 100, 10, 1.6, 0.9, 2);
    reinforce =
        FakeRun.write(
            runs.resolve("reinforce"),
            "name: reinforce\nkl-coefficient: 0.1",
            100,
            10,
            0.9,
            1.3,
            3);
    single = RunReport.write(List.of(jbond), reports.resolve("single"));
    Path stale = Files.createDirectories(reports.resolve("several"));
    for (String file : List.of("step-time.png", "kl-anchor.png", "notes.png")) {
      Files.writeString(stale.resolve(file), "from an earlier report");
    }
    several = RunReport.write(List.of(jbond, jbondFast, reinforce), stale);
  }

  @Test
  void write_oneRun_writesEveryPlotAsANonBlankPngOfTheChartSize() throws IOException {
    assertEquals(reports.resolve("single").resolve(RunReport.REPORT_FILE), single);
    assertEquals(new TreeSet<>(RunReport.PLOT_FILES), pngs(single.getParent()));
    for (String file : RunReport.PLOT_FILES) {
      assertValidPlot(single.resolveSibling(file));
    }
  }

  @Test
  void write_oneRun_htmlReferencesExactlyThePlotsWrittenAndTheFinalNumbers() throws IOException {
    EvalResult last = EvalResult.read(jbond.resolve("eval.jsonl")).get(10);

    String html = Files.readString(single);

    assertEquals(pngs(single.getParent()), imageSources(html));
    assertTrue(html.contains("<h1>Run report: J-BOND (eta 0.02)</h1>"), html);
    assertTrue(html.contains("<td>" + RunReport.quantile(last.quantileVsReference()) + "</td>"));
    assertTrue(html.contains("<td>" + RunReport.kl(last.klReference()) + "</td>"));
    assertTrue(html.contains("<td>" + RunReport.kl(last.frontierKl()) + "</td>"));
    assertTrue(html.contains("<td>" + RunReport.bestOfN(last.bestOfNEquivalent()) + "</td>"));
    assertTrue(html.contains("<td>" + RunReport.reward(last.rewardMean()) + "</td>"));
    assertTrue(html.contains("<td>100 of 100</td>"), html);
    assertTrue(html.contains("<td>J-BOND (β 0.5, η 0.02)</td>"), html);
    assertTrue(html.contains("<pre># eta &lt; 0.1 &amp; beta = 0.5\npolicy:"), html);
    assertTrue(html.contains("<details>"));
    assertFalse(html.contains("<script"));
    assertFalse(html.contains("<link"));
    assertFalse(html.contains("http"), "the page must open offline");
    assertFalse(html.contains("url("), "the page must open offline");
  }

  @Test
  void write_withoutEvalJsonl_drawsTheTrainingPlotsAndSaysWhatIsMissing() throws IOException {
    Path run = jbondCopy();
    Files.delete(run.resolve("eval.jsonl"));

    String html = Files.readString(RunReport.write(List.of(run), out));

    assertEquals(
        Set.of("kl-reference.png", "reward.png", "kl-anchor.png", "step-time.png"), pngs(out));
    assertEquals(pngs(out), imageSources(html));
    assertTrue(html.contains("No eval.jsonl: the evaluation plots are left out"), html);
    assertFalse(html.contains("Final evaluation at step"), html);
    for (String file : pngs(out)) {
      assertValidPlot(out.resolve(file));
    }
  }

  @Test
  void write_runThatJustStarted_rendersWithoutPlots() throws IOException {
    Path run = Files.createDirectories(runs.resolve("started"));
    Files.writeString(run.resolve("metrics.jsonl"), "");
    Files.writeString(run.resolve("eval.jsonl"), "{\"step\": 0, \"rewardM");

    String html = Files.readString(RunReport.write(List.of(run), out));

    assertEquals(Set.of(), pngs(out));
    assertTrue(html.contains("<h1>Run report: started</h1>"), html);
    assertTrue(html.contains("metrics.jsonl holds no training steps yet"), html);
    assertTrue(html.contains("Skipped the incomplete last line of eval.jsonl"), html);
    assertTrue(html.contains("No config.yaml"), html);
    assertTrue(html.contains("No evaluations yet."), html);
    assertTrue(html.contains("No training metrics yet."), html);
  }

  @Test
  void write_severalRuns_drawsAllOnOneFrontierWithOneTableRowEach() throws IOException {
    String html = Files.readString(several);

    assertEquals(
        Set.of("frontier.png", "quantile.png", "kl-reference.png", "reward.png"),
        pngs(several.getParent()));
    assertEquals(pngs(several.getParent()), imageSources(html));
    for (String label : List.of("J-BOND (eta 0.02)", "J-BOND (eta 0.05)", "REINFORCE (c 0.1)")) {
      assertTrue(html.contains("<td>" + label + "</td>"), label);
    }
    assertEquals(3, count(html, "<span class=\"swatch\""));
    Set<Integer> colours = colours(ImageIO.read(several.resolveSibling("frontier.png").toFile()));
    for (int i = 0; i < 3; i++) {
      assertTrue(
          colours.contains(Charts.runColor(i).getRGB() & 0xffffff),
          "run " + i + "'s colour " + Charts.css(Charts.runColor(i)) + " in the frontier plot");
    }
    for (String file : pngs(several.getParent())) {
      assertValidPlot(several.resolveSibling(file));
    }
  }

  @Test
  void write_intoAnEarlierReportsDirectory_deletesOnlyThePlotsItNoLongerDraws() throws IOException {
    assertFalse(Files.exists(several.resolveSibling("step-time.png")));
    assertFalse(Files.exists(several.resolveSibling("kl-anchor.png")));
    assertTrue(Files.exists(several.resolveSibling("notes.png")), "files that are not plots stay");
    try (Stream<Path> files = Files.list(several.getParent())) {
      assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")));
    }
  }

  @Test
  void distinctLabels_twoRunsWithTheSameLabel_appendsTheDirectoryNames() throws IOException {
    List<ReportedRun> labelled =
        RunReport.distinctLabels(
            List.of(
                ReportedRun.load(jbond),
                ReportedRun.load(reinforce),
                ReportedRun.load(jbondCopy()),
                ReportedRun.load(jbond)));

    assertEquals(
        List.of(
            "J-BOND (eta 0.02) [jbond]",
            "REINFORCE (c 0.1)",
            "J-BOND (eta 0.02) [copy]",
            "J-BOND (eta 0.02) [jbond] #2"),
        labelled.stream().map(ReportedRun::label).toList());
  }

  @Test
  void write_outputIsAFile_throwsOneLineMessage() throws IOException {
    Path file = Files.writeString(out.resolve("file"), "x");

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> RunReport.write(List.of(jbond), file));
    assertEquals("Expected an output directory, found the file " + file, e.getMessage());
  }

  @Test
  void write_noRunDirectories_throwsOneLineMessage() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> RunReport.write(List.of(), out));
    assertEquals("Expected at least one run directory, found none", e.getMessage());
  }

  /** A copy of the J-BOND run in {@code runs/copy}. */
  private static Path jbondCopy() throws IOException {
    Path copy = Files.createDirectories(runs.resolve("copy"));
    for (String file : List.of("config.yaml", "metrics.jsonl", "eval.jsonl")) {
      Files.copy(jbond.resolve(file), copy.resolve(file), StandardCopyOption.REPLACE_EXISTING);
    }
    return copy;
  }

  private static void assertValidPlot(Path png) throws IOException {
    byte[] bytes = Files.readAllBytes(png);
    assertArrayEquals(PNG_MAGIC, Arrays.copyOf(bytes, PNG_MAGIC.length), png.toString());
    BufferedImage image = ImageIO.read(png.toFile());
    assertEquals(Charts.WIDTH, image.getWidth(), png.toString());
    assertEquals(Charts.HEIGHT, image.getHeight(), png.toString());
    int distinct = colours(image).size();
    assertTrue(distinct > 30, png + " has only " + distinct + " colours");
  }

  private static Set<Integer> colours(BufferedImage image) {
    int[] pixels =
        image.getRGB(0, 0, image.getWidth(), image.getHeight(), null, 0, image.getWidth());
    BitSet seen = new BitSet(1 << 24);
    for (int pixel : pixels) {
      seen.set(pixel & 0xffffff);
    }
    return seen.stream().boxed().collect(Collectors.toSet());
  }

  private static Set<String> pngs(Path directory) throws IOException {
    try (Stream<Path> files = Files.list(directory)) {
      return files
          .map(p -> p.getFileName().toString())
          .filter(name -> name.endsWith(".png") && RunReport.PLOT_FILES.contains(name))
          .collect(Collectors.toCollection(TreeSet::new));
    }
  }

  private static Set<String> imageSources(String html) {
    Set<String> sources = new TreeSet<>();
    Matcher m = IMG_SRC.matcher(html);
    while (m.find()) {
      assertTrue(sources.add(m.group(1)), "twice: " + m.group(1));
    }
    return sources;
  }

  private static int count(String text, String part) {
    int n = 0;
    for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
      n++;
    }
    return n;
  }
}
