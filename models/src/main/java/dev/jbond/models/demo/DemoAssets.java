package dev.jbond.models.demo;

import dev.jbond.internal.Checks;
import dev.jbond.internal.Json;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.models.reward.SentimentRewardGraph;
import dev.jbond.models.sft.SftStep;
import dev.jbond.models.sft.SupervisedFineTuning;
import dev.jbond.models.tokenizer.ByteTokenizer;
import dev.jbond.models.triton.TritonModelConfig;
import dev.jbond.models.triton.TritonModelConfig.TensorSpec;
import dev.jbond.models.triton.TritonRepository;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.onnx.train.LearnerConfig;
import dev.jbond.onnx.train.LearningRateSchedule;
import dev.jbond.onnx.train.OrtPolicyLearner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.stream.Stream;

/**
 * Generates the demo assets, a Triton model repository plus data files, with one call:
 *
 * <pre>
 *   &lt;out&gt;/
 *     corpus.jsonl          the {@link SyntheticCorpus} (seed {@code corpusSeed}), tokenized by
 *                           {@link ByteTokenizer}: {"prompt": [ids], "completion": [ids..., 256]}
 *     prompts.jsonl         every prompt of the grammar ({@link SyntheticCorpus#prompts()}):
 *                           {"id": "p0000", "prompt": [ids], "text": "The soup was"}
 *     provenance.json       settings, SFT summary, library version and SHA-256 of every file
 *                           written (a README.md beside them is not hashed)
 *     reward/config.pbtxt   backend "onnxruntime", max_batch_size, dynamic batching
 *     reward/1/model.onnx   {@link SentimentRewardGraph} (input_ids, attention_mask -&gt; score [B, 1])
 *     policy/config.pbtxt   backend "jbond-generate" (a generation backend serves it)
 *     policy/1/             a {@link ModelDirectory}: config.json, model.onnx, decode.onnx,
 *                           weights.bin; the reference policy after SFT on the corpus
 * </pre>
 *
 * <p>The reference policy starts from {@link DecoderWeights#initialize} with the settings' seed and
 * is trained by {@link SupervisedFineTuning} through {@link OrtPolicyLearner} (AdamW, cosine decay
 * after a short warm-up) on the corpus, completions ending with EOS. The SFT checkpoints and
 * metrics go to a scratch directory that is deleted afterwards. The same settings give the same
 * corpus, prompts and reward model byte for byte, and the same policy up to ONNX Runtime's
 * floating-point reduction order (fix {@code threads} for bit-identical runs on one machine).
 */
public final class DemoAssets {
  /** The corpus file. */
  public static final String CORPUS_FILE = "corpus.jsonl";

  /** The prompts file. */
  public static final String PROMPTS_FILE = "prompts.jsonl";

  /**
   * The inputs of the served policy: the TensorRT-LLM token-id profile the embedded server's
   * generation models take (as {@code TrtLlmModelConfig} lists them), with the batch dimension in
   * the dims since the configuration says {@code max_batch_size: 0}.
   */
  static final List<TensorSpec> GENERATE_INPUTS =
      List.of(
          TensorSpec.of("input_ids", "TYPE_INT32", -1, -1),
          TensorSpec.of("input_lengths", "TYPE_INT32", -1, 1),
          TensorSpec.of("request_output_len", "TYPE_INT32", -1, 1),
          TensorSpec.of("end_id", "TYPE_INT32", -1, 1).asOptional(),
          TensorSpec.of("pad_id", "TYPE_INT32", -1, 1).asOptional(),
          TensorSpec.of("temperature", "TYPE_FP32", -1, 1).asOptional(),
          TensorSpec.of("runtime_top_k", "TYPE_INT32", -1, 1).asOptional(),
          TensorSpec.of("runtime_top_p", "TYPE_FP32", -1, 1).asOptional(),
          TensorSpec.of("seed", "TYPE_UINT64", -1, 1).asOptional(),
          TensorSpec.of("return_log_probs", "TYPE_BOOL", -1, 1).asOptional(),
          TensorSpec.of("exclude_input_in_output", "TYPE_BOOL", -1, 1).asOptional());

  /** The outputs of the served policy, as {@link #GENERATE_INPUTS} the inputs. */
  static final List<TensorSpec> GENERATE_OUTPUTS =
      List.of(
          TensorSpec.of("output_ids", "TYPE_INT32", -1, -1, -1),
          TensorSpec.of("sequence_length", "TYPE_INT32", -1, -1),
          TensorSpec.of("output_log_probs", "TYPE_FP32", -1, -1, -1),
          TensorSpec.of("cum_log_probs", "TYPE_FP32", -1, -1),
          TensorSpec.of("batch_index", "TYPE_INT32", -1, 1));

  /**
   * Returns the served policy's configuration ({@code policy/config.pbtxt}): backend {@code
   * jbond-generate}, {@code max_batch_size: 0}, and the profile's tensors, so that clients can
   * discover them through {@code ModelMetadata}.
   *
   * @return the configuration
   */
  public static TritonModelConfig policyConfig() {
    return new TritonModelConfig(
        POLICY_MODEL,
        TritonModelConfig.GENERATE_BACKEND,
        0,
        GENERATE_INPUTS,
        GENERATE_OUTPUTS,
        false,
        Map.of());
  }

  /** The provenance file. */
  public static final String PROVENANCE_FILE = "provenance.json";

  /** The reward model's name in the repository. */
  public static final String REWARD_MODEL = "reward";

  /** The policy's name in the repository. */
  public static final String POLICY_MODEL = "policy";

  /** The largest batch the reward model's configuration allows. */
  public static final int REWARD_MAX_BATCH_SIZE = 64;

  private DemoAssets() {}

  /**
   * The generator's settings.
   *
   * @param examples corpus size, {@code >= 1}
   * @param corpusSeed the corpus seed
   * @param policy the reference policy's architecture and initialisation seed
   * @param sftSteps SFT optimizer steps, {@code >= 1}
   * @param batchSize SFT sequences per step, {@code >= 1}
   * @param learningRate peak AdamW learning rate, {@code > 0}
   * @param sftSeed the SFT batch-shuffle seed
   * @param rewardSeed the seed of the reward's tie-breaking term
   * @param threads ONNX Runtime intra-op threads for SFT, 0 = ONNX Runtime's choice
   */
  public record Settings(
      int examples,
      long corpusSeed,
      DecoderConfig policy,
      int sftSteps,
      int batchSize,
      double learningRate,
      long sftSeed,
      long rewardSeed,
      int threads) {
    /**
     * Validates the settings.
     *
     * @param examples see the record description
     * @param corpusSeed see the record description
     * @param policy see the record description
     * @param sftSteps see the record description
     * @param batchSize see the record description
     * @param learningRate see the record description
     * @param sftSeed see the record description
     * @param rewardSeed see the record description
     * @param threads see the record description
     * @throws IllegalArgumentException when a count is out of range or the policy's vocabulary is
     *     not the byte tokenizer's
     */
    public Settings {
      Checks.checkAtLeast(examples, 1, "example count");
      Objects.requireNonNull(policy, "policy");
      Checks.checkArgument(
          policy.vocabSize() == ByteTokenizer.VOCABULARY_SIZE,
          "Expected a policy vocabulary of %d (byte tokenizer), found %d",
          ByteTokenizer.VOCABULARY_SIZE,
          policy.vocabSize());
      Checks.checkAtLeast(sftSteps, 1, "SFT steps");
      Checks.checkAtLeast(batchSize, 1, "batch size");
      Checks.checkArgument(
          learningRate > 0, "Expected a learning rate > 0, found %s", learningRate);
      Checks.checkAtLeast(threads, 0, "threads");
    }

    /**
     * Returns the settings that made the committed assets in {@code models/demo}: 3000 reviews
     * (seed 0); a decoder of 2 layers, width 64, 4 heads, context 128 (seed 1); 1200 SFT steps of
     * 32 sequences at learning rate 3e-3 (seed 0); reward seed 0; ONNX Runtime's thread count.
     *
     * @return the default settings
     */
    public static Settings defaults() {
      return new Settings(
          3000,
          0,
          DecoderConfig.builder()
              .setVocabSize(ByteTokenizer.VOCABULARY_SIZE)
              .setContextLength(128)
              .setLayers(2)
              .setWidth(64)
              .setHeads(4)
              .setSeed(1)
              .build(),
          1200,
          32,
          3e-3,
          0,
          0,
          0);
    }

    /**
     * Returns a copy with other SFT steps.
     *
     * @param steps the steps
     * @return the copy
     */
    public Settings withSftSteps(int steps) {
      return new Settings(
          examples,
          corpusSeed,
          policy,
          steps,
          batchSize,
          learningRate,
          sftSeed,
          rewardSeed,
          threads);
    }

    /**
     * Returns a copy with another corpus size.
     *
     * @param count the example count
     * @return the copy
     */
    public Settings withExamples(int count) {
      return new Settings(
          count,
          corpusSeed,
          policy,
          sftSteps,
          batchSize,
          learningRate,
          sftSeed,
          rewardSeed,
          threads);
    }
  }

  /**
   * What {@link #generate} made.
   *
   * @param policy the policy's model directory
   * @param reward the reward model file
   * @param firstLossPerToken the mean SFT loss per completion token over the first 10 steps (nats)
   * @param lastLossPerToken the mean SFT loss per completion token over the last 10 steps (nats)
   * @param sftMillis the SFT wall time in milliseconds
   */
  public record Summary(
      ModelDirectory policy,
      Path reward,
      double firstLossPerToken,
      double lastLossPerToken,
      double sftMillis) {}

  /**
   * Writes the reward model into a repository: {@code <repo>/reward/config.pbtxt} and {@code
   * <repo>/reward/1/model.onnx}.
   *
   * @param repo the repository directory
   * @param seed the reward seed
   * @return the model file
   * @throws IOException when a file cannot be written
   */
  public static Path writeReward(Path repo, long seed) throws IOException {
    Graph graph = SentimentRewardGraph.build(SentimentLexicon.standard(), seed);
    TritonModelConfig config =
        new TritonModelConfig(
            REWARD_MODEL,
            TritonModelConfig.ONNX_BACKEND,
            REWARD_MAX_BATCH_SIZE,
            List.of(
                TensorSpec.of(SentimentRewardGraph.INPUT_IDS, "TYPE_INT64", -1),
                TensorSpec.of(SentimentRewardGraph.ATTENTION_MASK, "TYPE_INT64", -1)),
            List.of(TensorSpec.of(SentimentRewardGraph.SCORE, "TYPE_FP32", 1)),
            true,
            Map.of());
    Path scratch = Files.createTempDirectory("jbond-reward");
    try {
      Path file = scratch.resolve(TritonRepository.MODEL_FILE);
      graph.save(file, Long.MAX_VALUE);
      return TritonRepository.writeOnnxModel(repo, REWARD_MODEL, 1, file, config)
          .resolve(TritonRepository.MODEL_FILE);
    } finally {
      deleteTree(scratch);
    }
  }

  /**
   * Generates every asset into {@code out} (see the class description), replacing files of the same
   * names.
   *
   * @param out the output directory, created when missing
   * @param settings the settings
   * @param ticker nanosecond time source for the SFT timings
   * @param log receives one line per stage and every 100th SFT step
   * @return what was made
   * @throws IOException when a file cannot be written
   */
  public static Summary generate(
      Path out, Settings settings, LongSupplier ticker, Consumer<String> log) throws IOException {
    ByteTokenizer tokenizer = new ByteTokenizer();
    Files.createDirectories(out);
    List<Example> corpus = SyntheticCorpus.generate(settings.corpusSeed(), settings.examples());
    CorpusFiles.writeExamples(out.resolve(CORPUS_FILE), corpus, tokenizer);
    CorpusFiles.writePrompts(out.resolve(PROMPTS_FILE), SyntheticCorpus.prompts(), tokenizer);
    log.accept("wrote " + corpus.size() + " examples and the prompts");
    Path reward = writeReward(out, settings.rewardSeed());
    log.accept("wrote the reward model " + reward);

    TritonModelConfig policyConfig = policyConfig();
    Path policyDir = TritonRepository.versionDirectory(out, POLICY_MODEL, 1, policyConfig);
    Path scratch = Files.createTempDirectory("jbond-sft");
    try {
      ModelDirectory initial =
          ModelDirectory.write(
              scratch.resolve("initial"),
              DecoderWeights.initialize(settings.policy()),
              OptionalInt.of(ByteTokenizer.EOS_ID),
              OptionalInt.of(ByteTokenizer.PAD_ID));
      List<TokenizedExample> data = CorpusFiles.readExamples(out.resolve(CORPUS_FILE));
      SessionConfig.Builder session = SessionConfig.builder();
      if (settings.threads() > 0) {
        session.optIntraOpThreads(settings.threads());
      }
      LearnerConfig learnerConfig =
          LearnerConfig.builder()
              .optLearningRate(settings.learningRate())
              .optSchedule(
                  LearningRateSchedule.cosine(
                      Math.min(50, settings.sftSteps() - 1), settings.sftSteps(), 0))
              .optSession(session.build())
              .build();
      Path sftOut = scratch.resolve("sft");
      List<SftStep> steps;
      long t0 = ticker.getAsLong();
      try (OrtPolicyLearner learner = OrtPolicyLearner.open(initial.fullGraph(), learnerConfig)) {
        steps =
            new SupervisedFineTuning(
                    new SupervisedFineTuning.Settings(
                        settings.sftSteps(),
                        settings.batchSize(),
                        settings.sftSeed(),
                        settings.sftSteps(),
                        false),
                    ticker)
                .run(
                    learner,
                    data,
                    sftOut,
                    s -> {
                      if (s.step() % 100 == 0 || s.step() == settings.sftSteps()) {
                        log.accept(
                            String.format(
                                "sft step %d: loss per token %.4f", s.step(), s.lossPerToken()));
                      }
                    });
      }
      double millis = (ticker.getAsLong() - t0) / 1e6;
      DecoderWeights trained =
          DecoderWeights.fromInitializers(
              settings.policy(), Graph.load(sftOut.resolve("model.onnx")).initializers());
      ModelDirectory policy =
          ModelDirectory.write(
              policyDir,
              trained,
              OptionalInt.of(ByteTokenizer.EOS_ID),
              OptionalInt.of(ByteTokenizer.PAD_ID));
      TritonRepository.writeConfig(out, policyConfig);
      double first = meanLoss(steps.subList(0, Math.min(10, steps.size())));
      double last = meanLoss(steps.subList(Math.max(0, steps.size() - 10), steps.size()));
      log.accept(
          String.format(
              "wrote the policy %s: loss per token %.4f -> %.4f in %.1f s",
              policyDir, first, last, millis / 1e3));
      writeProvenance(out, settings, first, last, millis);
      return new Summary(policy, reward, first, last, millis);
    } finally {
      deleteTree(scratch);
    }
  }

  private static double meanLoss(List<SftStep> steps) {
    return steps.stream().mapToDouble(SftStep::lossPerToken).average().orElse(Double.NaN);
  }

  private static void writeProvenance(
      Path out, Settings settings, double first, double last, double millis) throws IOException {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("generator", DemoAssets.class.getName());
    String version = DemoAssets.class.getPackage().getImplementationVersion();
    p.put("library_version", version == null ? "development build" : version);
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("examples", settings.examples());
    s.put("corpus_seed", settings.corpusSeed());
    s.put("policy", settings.policy().toString());
    s.put("sft_steps", settings.sftSteps());
    s.put("batch_size", settings.batchSize());
    s.put("learning_rate", settings.learningRate());
    s.put("sft_seed", settings.sftSeed());
    s.put("reward_seed", settings.rewardSeed());
    p.put("settings", s);
    Map<String, Object> sft = new LinkedHashMap<>();
    sft.put("first_loss_per_token", first);
    sft.put("last_loss_per_token", last);
    sft.put("seconds", Math.round(millis / 10) / 100.0);
    p.put("sft", sft);
    Map<String, Object> hashes = new LinkedHashMap<>();
    List<Path> files = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(out)) {
      walk.filter(Files::isRegularFile)
          .filter(f -> !f.getFileName().toString().equals(PROVENANCE_FILE))
          .filter(f -> !f.getFileName().toString().equals("README.md"))
          .sorted()
          .forEach(files::add);
    }
    for (Path f : files) {
      hashes.put(out.relativize(f).toString().replace('\\', '/'), sha256(f));
    }
    p.put("sha256", hashes);
    Files.writeString(out.resolve(PROVENANCE_FILE), Json.write(p) + "\n", StandardCharsets.UTF_8);
  }

  private static String sha256(Path file) throws IOException {
    try {
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("Expected SHA-256 in every JDK, found none", e);
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    List<Path> paths;
    try (Stream<Path> walk = Files.walk(root)) {
      paths = walk.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList();
    }
    for (Path p : paths) {
      Files.deleteIfExists(p);
    }
  }
}
