package dev.jbond.orchestrator.cli;

import dev.jbond.Generation;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.internal.Json;
import dev.jbond.models.demo.CorpusFiles;
import dev.jbond.models.generate.DirectSampler;
import dev.jbond.models.generate.SamplingConfig;
import dev.jbond.models.policy.PolicyFiles;
import dev.jbond.onnx.train.LearnerConfig;
import dev.jbond.onnx.train.OrtPolicyLearner;
import dev.jbond.orchestrator.config.RunConfig;
import dev.jbond.orchestrator.eval.EvalResult;
import dev.jbond.orchestrator.eval.Evaluator;
import dev.jbond.orchestrator.run.RunComponents;
import dev.jbond.orchestrator.run.RunDirectory;
import dev.jbond.spi.RewardModel;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bond eval --policy MODEL [--reference MODEL] --reward MODEL --prompts FILE [-k 16]}: how a
 * policy compares with the reference under a reward, in process: the policy's mean reward, its
 * reward quantile against k reference samples per prompt (ties 1/2), its win rate (the fraction of
 * prompts where its mean reward beats the reference's, ties 1/2), the KL estimate mean(log pi - log
 * pi_ref) over its samples, and for comparison the reference's own Best-of-N at N = 1, 2, 4, 8, 16
 * (the best of N further reference samples by reward: its mean reward and quantile against the k
 * samples, and the Best-of-N KL log N - (N-1)/N). Prints a table, and JSON with {@code --json}.
 */
@Command(
    name = "eval",
    mixinStandardHelpOptions = true,
    description =
        "Compare a policy with the reference: reward, quantile, win rate, KL, and the reference's"
            + " Best-of-N.")
public final class EvalCommand implements Callable<Integer> {
  static final int[] BEST_OF = {1, 2, 4, 8, 16};

  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  @Option(names = "--policy", required = true, description = "The policy's model directory.")
  Path policy;

  @Option(
      names = "--reference",
      description = "The reference's model directory (default: the policy itself).")
  Path reference;

  @Option(
      names = "--reward",
      required = true,
      description = "The reward model: a .onnx file or a Triton model directory.")
  Path reward;

  @Option(names = "--prompts", required = true, description = "JSON-lines prompts.")
  Path prompts;

  @Option(
      names = "-k",
      description = "Reference samples per prompt to compare with (default: ${DEFAULT-VALUE}).")
  int k = 16;

  @Option(names = "-n", description = "Policy samples per prompt (default: ${DEFAULT-VALUE}).")
  int n = 4;

  @Option(
      names = "--max-new-tokens",
      description = "Most tokens per completion (default: ${DEFAULT-VALUE}).")
  int maxNewTokens = 64;

  @Option(names = "--limit", description = "Use only the first L prompts, 0 = all.")
  int limit = 0;

  @Option(names = "--seed", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
  long seed = 0;

  @Option(names = "--json", description = "Also write the results as JSON to this file.")
  Path json;

  @Override
  public Integer call() throws Exception {
    for (int[] check : new int[][] {{k, 1}, {n, 1}, {maxNewTokens, 1}, {limit, 0}}) {
      if (check[0] < check[1]) {
        throw new IllegalArgumentException(
            "Expected -k, -n and --max-new-tokens >= 1 and --limit >= 0, found "
                + k
                + ", "
                + n
                + ", "
                + maxNewTokens
                + ", "
                + limit);
      }
    }
    PolicyFiles pol = PolicyFiles.open(policy);
    PolicyFiles ref = PolicyFiles.open(reference == null ? policy : reference);
    if (pol.vocabSize() != ref.vocabSize()) {
      throw new IllegalArgumentException(
          "Expected a reference with the policy's vocabulary of "
              + pol.vocabSize()
              + " tokens, found "
              + ref.vocabSize());
    }
    List<Prompt> all = CorpusFiles.readPrompts(prompts, pol.tokenizer(), pol.chatTemplate());
    if (all.isEmpty()) {
      throw new IllegalArgumentException("Expected at least one prompt in " + prompts);
    }
    List<Prompt> used = limit > 0 && limit < all.size() ? all.subList(0, limit) : all;
    SamplingConfig sampling =
        RunComponents.training(new RunConfig.Sampling(maxNewTokens, 1.0, 0, 1.0), pol);
    int candidates = BEST_OF[BEST_OF.length - 1];
    Map<String, Object> results = new LinkedHashMap<>();
    try (RewardModel rm =
            RunComponents.reward(
                new RunConfig.Reward(
                    reward.toString(),
                    "input_ids",
                    "attention_mask",
                    "score",
                    64,
                    0,
                    null,
                    null,
                    null,
                    null),
                pol,
                false);
        DirectSampler policySampler = DirectSampler.builder(pol, sampling).build();
        DirectSampler referenceSampler = DirectSampler.builder(ref, sampling).build();
        OrtPolicyLearner referenceModel =
            OrtPolicyLearner.open(ref.fullGraph(), LearnerConfig.defaults())) {
      List<Generation> ys = policySampler.sample(used, n, PolicyRole.POLICY, seed);
      List<Generation> refs =
          referenceSampler.sample(used, k + candidates, PolicyRole.POLICY, seed + 1);
      double[] yRewards = rm.score(ys);
      double[] refRewards = rm.score(refs);
      List<double[]> comparison = new ArrayList<>();
      List<double[]> pool = new ArrayList<>();
      for (int p = 0; p < used.size(); p++) {
        double[] c = new double[k];
        double[] b = new double[candidates];
        for (int j = 0; j < k + candidates; j++) {
          double r = refRewards[p * (k + candidates) + j];
          if (j < k) {
            c[j] = r;
          } else {
            b[j - k] = r;
          }
        }
        comparison.add(c);
        pool.add(b);
      }
      double[] logPolicy = new double[ys.size()];
      for (int i = 0; i < ys.size(); i++) {
        logPolicy[i] =
            ys.get(i)
                .engineLogProbs()
                .orElseThrow(() -> new IllegalStateException("Expected the sampler's log-probs"))
                .sum();
      }
      double[] logReference = referenceModel.logProbs(PolicyRole.REFERENCE, ys);
      double kl = 0;
      for (int i = 0; i < ys.size(); i++) {
        kl += logPolicy[i] - logReference[i];
      }
      kl /= ys.size();
      double q = Evaluator.quantile(yRewards, n, comparison);
      double win = 0;
      double referenceMean = 0;
      for (int p = 0; p < used.size(); p++) {
        double mine = 0;
        for (int j = 0; j < n; j++) {
          mine += yRewards[p * n + j] / n;
        }
        double theirs = 0;
        for (double r : comparison.get(p)) {
          theirs += r / k;
        }
        referenceMean += theirs / used.size();
        win += mine > theirs ? 1 : mine == theirs ? 0.5 : 0;
      }
      win /= used.size();
      double bestOfN = EvalResult.bestOfN(q);
      Map<String, Object> policyResult = new LinkedHashMap<>();
      policyResult.put("model", policy.toString());
      policyResult.put("rewardMean", Evaluator.mean(yRewards));
      policyResult.put("quantileVsReference", q);
      policyResult.put("winRate", win);
      policyResult.put("klReference", kl);
      policyResult.put("bestOfNEquivalent", bestOfN);
      policyResult.put("frontierKl", EvalResult.frontierKl(bestOfN));
      results.put("prompts", used.size());
      results.put("samplesPerPrompt", n);
      results.put("referenceSamples", k);
      results.put("referenceRewardMean", referenceMean);
      results.put("policy", policyResult);
      List<Object> table = new ArrayList<>();
      for (int bigN : BEST_OF) {
        double[] best = new double[used.size()];
        for (int p = 0; p < used.size(); p++) {
          double b = Double.NEGATIVE_INFINITY;
          for (int j = 0; j < bigN; j++) {
            b = Math.max(b, pool.get(p)[j]);
          }
          best[p] = b;
        }
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("n", bigN);
        row.put("rewardMean", Evaluator.mean(best));
        row.put("quantileVsReference", Evaluator.quantile(best, 1, comparison));
        row.put("expectedQuantile", bigN / (bigN + 1.0));
        row.put("klReference", EvalResult.frontierKl(bigN));
        table.add(row);
      }
      results.put("referenceBestOfN", table);
    }
    print(results, spec.commandLine().getOut());
    if (json != null) {
      RunDirectory.writeAtomically(json, Json.write(results) + "\n");
    }
    return 0;
  }

  @SuppressWarnings("unchecked")
  private static void print(Map<String, Object> r, PrintWriter out) {
    Map<String, Object> p = (Map<String, Object>) r.get("policy");
    out.printf(
        Locale.ROOT,
        "%d prompts; policy: %d samples per prompt; reference: %d samples per prompt (mean reward"
            + " %.3f)%n%n",
        (Integer) r.get("prompts"),
        (Integer) r.get("samplesPerPrompt"),
        (Integer) r.get("referenceSamples"),
        (Double) r.get("referenceRewardMean"));
    out.printf(
        Locale.ROOT,
        "%-18s %12s %10s %9s %12s %14s%n",
        "",
        "mean reward",
        "quantile",
        "win rate",
        "KL(.||ref)",
        "Best-of-N eq.");
    out.printf(
        Locale.ROOT,
        "%-18s %12.3f %10.3f %9.3f %12.3f %14.2f%n",
        "policy",
        (Double) p.get("rewardMean"),
        (Double) p.get("quantileVsReference"),
        (Double) p.get("winRate"),
        (Double) p.get("klReference"),
        (Double) p.get("bestOfNEquivalent"));
    for (Object o : (List<Object>) r.get("referenceBestOfN")) {
      Map<String, Object> row = (Map<String, Object>) o;
      out.printf(
          Locale.ROOT,
          "%-18s %12.3f %10.3f %9s %12.3f %14s%n",
          "reference BoN-" + row.get("n"),
          (Double) row.get("rewardMean"),
          (Double) row.get("quantileVsReference"),
          "",
          (Double) row.get("klReference"),
          "(" + String.format(Locale.ROOT, "%.3f", (Double) row.get("expectedQuantile")) + ")");
    }
    out.println();
    out.println(
        "quantile: mean fraction of the reference samples a sample beats (ties 1/2); Best-of-N"
            + " rows: the best of N further reference samples, expected quantile N/(N+1) in"
            + " brackets, KL = log N - (N-1)/N");
    out.flush();
  }
}
