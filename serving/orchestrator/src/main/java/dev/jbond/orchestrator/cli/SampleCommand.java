package dev.jbond.orchestrator.cli;

import dev.jbond.Generation;
import dev.jbond.Prompt;
import dev.jbond.internal.Checks;
import dev.jbond.internal.Json;
import dev.jbond.models.demo.CorpusFiles;
import dev.jbond.models.generate.BestOfNInference;
import dev.jbond.models.generate.BestOfNInference.PromptCandidates;
import dev.jbond.models.generate.DirectSampler;
import dev.jbond.models.generate.PolicySamplers;
import dev.jbond.models.generate.SamplingConfig;
import dev.jbond.models.policy.PolicyFiles;
import dev.jbond.models.reward.OrtRewardModel;
import dev.jbond.models.tokenizer.Tokenizer;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.orchestrator.run.RunComponents;
import dev.jbond.spi.RewardModel;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bond sample}: Best-of-N inference. Draws N candidates per prompt from a policy model
 * directory, optionally scores them with an ONNX reward model and picks the best, and writes one
 * JSON line per prompt:
 *
 * <pre>
 *   {"id": "p0000", "prompt": [ids], "text": "The soup was",
 *    "candidates": [{"tokens": [ids], "text": " good.", "logprob": -7.2, "reward": 1.01}, ...],
 *    "best": 3}
 * </pre>
 *
 * {@code text} fields appear when the model directory's tokenizer is known ({@link
 * PolicyFiles#tokenizer()}); {@code logprob} is the sum of the sampling distribution's per-token
 * log-probabilities of the completion; {@code reward} and {@code best} appear with {@code
 * --reward}, {@code best} also needs {@code --best-of}.
 */
@Command(
    name = "sample",
    mixinStandardHelpOptions = true,
    description =
        "Best-of-N inference: N candidates per prompt with log-probs and (with --reward) rewards"
            + " and the Best-of-N pick, as JSON lines.")
public final class SampleCommand implements Callable<Integer> {
  @Option(
      names = "--policy",
      required = true,
      description = "Policy model directory (config.json, decode.onnx, weights.bin).")
  Path policy;

  @Option(
      names = "--prompts",
      required = true,
      description = "JSON lines {\"id\": ..., \"prompt\": [ids]} (e.g. models/demo/prompts.jsonl).")
  Path prompts;

  @Option(names = "-n", description = "Candidates per prompt (default: ${DEFAULT-VALUE}).")
  int n = 4;

  @Option(
      names = "--reward",
      description =
          "Reward model: a .onnx file, or a Triton model directory (its highest version's"
              + " model.onnx).")
  Path reward;

  @Option(names = "--best-of", description = "Report the Best-of-N pick (needs --reward).")
  boolean bestOf;

  @Option(names = "--seed", description = "Sampling seed (default: ${DEFAULT-VALUE}).")
  long seed = 0;

  @Option(
      names = "--max-new-tokens",
      description = "Most tokens per completion (default: ${DEFAULT-VALUE}).")
  int maxNewTokens = 64;

  @Option(names = "--temperature", description = "Temperature (default: ${DEFAULT-VALUE}).")
  double temperature = 1.0;

  @Option(names = "--top-k", description = "Top-k, 0 = off (default: ${DEFAULT-VALUE}).")
  int topK = 0;

  @Option(names = "--top-p", description = "Top-p, 1 = off (default: ${DEFAULT-VALUE}).")
  double topP = 1.0;

  @Option(names = "--limit", description = "Use only the first L prompts, 0 = all.")
  int limit = 0;

  @Option(
      names = "--threads",
      description =
          "ONNX Runtime intra-op threads of the policy; 0 lets ONNX Runtime choose (default:"
              + " ${DEFAULT-VALUE}).")
  int threads = 0;

  @Option(
      names = "--small-batch-rows",
      description =
          "Decode batches of at most this many rows on a second, one-thread session of the policy"
              + " (faster only when other processes compete for the cores; costs a second copy of"
              + " the weights; needs --threads > 1), 0 = off (default: ${DEFAULT-VALUE}).")
  int smallBatchRows = 0;

  @Option(names = "--out", required = true, description = "Output file (JSON lines).")
  Path out;

  @Override
  public Integer call() throws Exception {
    Checks.checkArgument(
        !bestOf || reward != null, "Expected --reward with --best-of, found no reward model");
    PolicyFiles dir = PolicyFiles.open(policy);
    Optional<Tokenizer> tokenizer = dir.tokenizer();
    List<Prompt> all = CorpusFiles.readPrompts(prompts, tokenizer, dir.chatTemplate());
    Checks.checkArgument(!all.isEmpty(), "Expected at least one prompt in %s, found none", prompts);
    List<Prompt> used = limit > 0 && limit < all.size() ? all.subList(0, limit) : all;
    SamplingConfig sampling =
        SamplingConfig.builder()
            .setMaxNewTokens(maxNewTokens)
            .optTemperature(temperature)
            .optTopK(topK)
            .optTopP(topP)
            .optSpecialTokens(dir)
            .build();
    List<PromptCandidates> results;
    String cost = PolicySamplers.costNote(dir, maxNewTokens);
    if (!cost.isEmpty()) {
      System.err.println(cost);
    }
    Checks.checkArgument(threads >= 0, "Expected --threads >= 0, found %d", threads);
    Checks.checkArgument(
        smallBatchRows >= 0, "Expected --small-batch-rows >= 0, found %d", smallBatchRows);
    try (DirectSampler sampler =
            DirectSampler.builder(dir, sampling)
                .optSessionConfig(SessionConfig.builder().optIntraOpThreads(threads).build())
                .optSmallBatchRows(smallBatchRows)
                .build();
        OrtRewardModel rm = reward == null ? null : openReward(reward, dir)) {
      results = BestOfNInference.run(sampler, used, n, Optional.<RewardModel>ofNullable(rm), seed);
    }
    if (out.toAbsolutePath().getParent() != null) {
      Files.createDirectories(out.toAbsolutePath().getParent());
    }
    try (Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8)) {
      for (PromptCandidates c : results) {
        w.write(toJson(c, tokenizer, bestOf));
        w.write('\n');
      }
    }
    System.err.printf(
        "bond sample: %d prompts x %d candidates from %s -> %s%n", used.size(), n, policy, out);
    return 0;
  }

  private static OrtRewardModel openReward(Path reward, PolicyFiles policy) throws IOException {
    OrtRewardModel.Builder b = OrtRewardModel.builder(RunComponents.rewardFile(reward));
    policy.padTokenId().ifPresent(b::optPadTokenId);
    b.optVocabularySize(policy.vocabSize());
    return b.optSessionConfig(SessionConfig.defaults()).build();
  }

  static String toJson(PromptCandidates c, Optional<Tokenizer> tokenizer, boolean bestOf) {
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("id", c.prompt().id());
    line.put("prompt", c.prompt().tokens().toList());
    tokenizer.ifPresent(t -> line.put("text", t.decodeLenient(c.prompt().tokens())));
    List<Object> candidates = new ArrayList<>();
    for (int j = 0; j < c.candidates().size(); j++) {
      Generation g = c.candidates().get(j);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("tokens", g.completion().toList());
      tokenizer.ifPresent(t -> m.put("text", t.decodeLenient(g.completion())));
      g.engineLogProbs().ifPresent(lp -> m.put("logprob", lp.sum()));
      int index = j;
      c.rewards().ifPresent(r -> m.put("reward", r.get(index)));
      candidates.add(m);
    }
    line.put("candidates", candidates);
    if (bestOf) {
      c.best().ifPresent(b -> line.put("best", b));
    }
    return Json.write(line);
  }
}
