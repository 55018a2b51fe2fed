package dev.jbond.reference;

import dev.jbond.PolicyRole;
import dev.jbond.internal.Checks;
import dev.jbond.loop.JbondLoop;
import dev.jbond.loop.PromptSource;
import dev.jbond.metrics.JsonLinesMetricsWriter;
import dev.jbond.metrics.StepMetrics;
import dev.jbond.objective.Jbond;
import dev.jbond.objective.Reinforce;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The tabular J-BOND demo: the paper's reward/KL comparison in miniature, on a random finite
 * problem where everything can be computed exactly.
 *
 * <ol>
 *   <li>The Best-of-N frontier of the reference for N = 1..64 (exact mean quantile and KL).
 *   <li>Sampled J-BOND through the real {@link JbondLoop} on the {@link TabularBackend}, with the
 *       exact (quantile, KL) of the policy along the way against the frontier at that quantile;
 *       metrics as JSON lines in {@code <out>/jbond-metrics.jsonl}.
 *   <li>REINFORCE with several KL coefficients, trained to its optimum with exact gradients.
 *   <li>The (quantile, KL) points of both, side by side.
 * </ol>
 *
 * @param prompts number of prompts of the problem
 * @param completions completions per prompt
 * @param steps J-BOND steps
 * @param learningRate Adam step size of the J-BOND run
 * @param seed the seed of the problem and of sampling
 * @param out the output directory
 */
public record TabularDemo(
    int prompts, int completions, int steps, double learningRate, long seed, Path out) {

  /**
   * Validates the settings.
   *
   * @param prompts see the record description
   * @param completions see the record description
   * @param steps see the record description
   * @param learningRate see the record description
   * @param seed see the record description
   * @param out see the record description
   * @throws IllegalArgumentException when a value is out of range
   */
  public TabularDemo {
    Checks.checkAtLeast(prompts, 1, "prompts");
    Checks.checkAtLeast(completions, 2, "completions per prompt");
    Checks.checkAtLeast(steps, 1, "steps");
    Checks.checkArgument(learningRate > 0, "Expected a learning rate > 0, found %s", learningRate);
    java.util.Objects.requireNonNull(out, "out");
  }

  /**
   * Returns the demo's defaults: 16 prompts x 32 completions, 2000 J-BOND steps, Adam 0.05, seed 7,
   * output in {@code runs/tabular-demo}.
   *
   * @return the defaults
   */
  public static TabularDemo defaults() {
    return new TabularDemo(16, 32, 2000, 0.05, 7, Path.of("runs", "tabular-demo"));
  }

  /** The KL coefficients of the REINFORCE runs. */
  static final List<Double> REINFORCE_COEFFICIENTS = List.of(1.0, 0.3, 0.1, 0.05);

  /** The N values of the printed frontier. */
  static final int[] FRONTIER_N = {1, 2, 4, 8, 16, 32, 64};

  /**
   * What the demo measured.
   *
   * @param frontier the Best-of-N points for {@link #FRONTIER_N}
   * @param jbond the J-BOND policy's point after every reporting interval
   * @param reinforceCoefficients the REINFORCE KL coefficients
   * @param reinforce the converged REINFORCE point of each coefficient
   */
  public record Result(
      List<TabularEvaluation.Point> frontier,
      List<TabularEvaluation.Point> jbond,
      List<Double> reinforceCoefficients,
      List<TabularEvaluation.Point> reinforce) {
    /**
     * Copies the lists.
     *
     * @param frontier see the record description
     * @param jbond see the record description
     * @param reinforceCoefficients see the record description
     * @param reinforce see the record description
     */
    public Result {
      frontier = List.copyOf(frontier);
      jbond = List.copyOf(jbond);
      reinforceCoefficients = List.copyOf(reinforceCoefficients);
      reinforce = List.copyOf(reinforce);
    }
  }

  /**
   * Runs the demo, printing what it does to {@code console}.
   *
   * @param console where to print
   * @return the measured points
   * @throws IOException when the metrics file cannot be written
   */
  public Result run(PrintStream console) throws IOException {
    TabularProblem problem = TabularProblem.random(prompts, completions, 1.5, 0, seed);
    TabularEvaluation eval = new TabularEvaluation(problem);
    console.printf(
        Locale.ROOT,
        "Tabular J-BOND demo: %d prompts x %d completions, reference logits ~ N(0, 1.5^2),"
            + " rewards ~ U(0, 1), seed %d%n%n",
        prompts,
        completions,
        seed);

    console.println("Best-of-N of the reference (exact):");
    console.println("      N   quantile   KL(BoN||ref)   log N - (N-1)/N");
    List<TabularEvaluation.Point> frontier = new ArrayList<>();
    for (int n : FRONTIER_N) {
      TabularEvaluation.Point p = eval.bestOfN(n);
      frontier.add(p);
      console.printf(
          Locale.ROOT,
          "  %5d   %8.4f   %12.4f   %15.4f%n",
          n,
          p.quantile(),
          p.kl(),
          Math.log(n) - (n - 1.0) / n);
    }

    Files.createDirectories(out);
    Path metricsFile = out.resolve("jbond-metrics.jsonl");
    Files.deleteIfExists(metricsFile);
    Jbond objective = Jbond.defaults();
    console.printf(
        Locale.ROOT,
        "%nSampled J-BOND through the training loop: %s, Adam lr %s, %d steps%n",
        objective,
        learningRate,
        steps);
    console.println("   step   reward   quantile   KL(pi||ref)   frontier KL at quantile");
    List<TabularEvaluation.Point> jbondPoints = new ArrayList<>();
    TabularBackend backend = TabularBackend.adam(problem, learningRate);
    int report = Math.max(1, steps / 10);
    try (JsonLinesMetricsWriter metrics = JsonLinesMetricsWriter.open(metricsFile);
        JbondLoop loop =
            JbondLoop.builder(
                    objective,
                    backend,
                    backend,
                    backend,
                    backend,
                    PromptSource.shuffled(problem.prompts(), problem.size(), seed))
                .optSeed(seed)
                .optMetricsSink(
                    m -> {
                      try {
                        metrics.write(m);
                      } catch (IOException e) {
                        throw new UncheckedIOException(e);
                      }
                    })
                .build()) {
      double rewardSum = 0;
      for (int s = 1; s <= steps; s++) {
        StepMetrics m = loop.step();
        rewardSum += m.rewardMean();
        if (s % report == 0 || s == steps) {
          TabularEvaluation.Point p = eval.evaluate(backend, PolicyRole.POLICY);
          jbondPoints.add(p);
          console.printf(
              Locale.ROOT,
              "  %5d   %6.3f   %8.4f   %11.4f   %11.4f%n",
              s,
              rewardSum / report,
              p.quantile(),
              p.kl(),
              eval.frontierKl(p.quantile(), 64));
          rewardSum = 0;
        }
      }
    }
    console.printf(Locale.ROOT, "  metrics: %s%n", metricsFile);

    console.printf(
        Locale.ROOT,
        "%nREINFORCE on r - c KL(pi||ref), trained to its optimum (exact gradients):%n");
    console.println("      c   quantile   KL(pi||ref)   frontier KL at quantile");
    List<TabularEvaluation.Point> reinforce = new ArrayList<>();
    for (double c : REINFORCE_COEFFICIENTS) {
      TabularBackend rb = TabularBackend.create(problem, TabularBackend.Optimizer.SGD, 1.0);
      ExactTrainer.train(Reinforce.withKlCoefficient(c), rb, 20_000, 1e-10);
      TabularEvaluation.Point p = eval.evaluate(rb, PolicyRole.POLICY);
      reinforce.add(p);
      console.printf(
          Locale.ROOT,
          "  %5.2f   %8.4f   %11.4f   %11.4f%n",
          c,
          p.quantile(),
          p.kl(),
          eval.frontierKl(p.quantile(), 64));
    }
    console.println();
    console.println(
        "J-BOND moves along the Best-of-N frontier without choosing N or a KL coefficient;");
    console.println(
        "each REINFORCE run stops at one point fixed by c (the paper's Fig. 7, in miniature).");
    return new Result(frontier, jbondPoints, REINFORCE_COEFFICIENTS, reinforce);
  }
}
