package dev.jbond.models.sft;

import dev.jbond.Generation;
import dev.jbond.ModelVersion;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.checkpoint.FileCheckpointStore;
import dev.jbond.internal.Checks;
import dev.jbond.internal.Json;
import dev.jbond.loop.EpochShuffle;
import dev.jbond.models.demo.TokenizedExample;
import dev.jbond.spi.PolicyLearner;
import dev.jbond.spi.StepOutcome;
import dev.jbond.spi.WeightedSequence;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Supervised fine-tuning of a policy through any {@link PolicyLearner}: each step takes a batch of
 * B prompt/completion pairs (deterministic epochs of a seeded shuffle) and one optimizer step on
 * {@code sum_s (-1/B) log pi(completion_s | prompt_s)}, the learner's weighted sequence
 * log-likelihood with weight {@code -1/B}: the mean negative log-likelihood of the completions.
 *
 * <p>Output directory: {@code sft-metrics.jsonl} (one JSON object per step, appended), {@code
 * checkpoints/} (atomic, last 3 kept, every {@code checkpointEvery} steps and at the end) and, at
 * the end, the exported policy {@code model.onnx}. A run started again on the same directory with
 * {@code resume} continues from the newest checkpoint with the same batches it would have seen.
 */
public final class SupervisedFineTuning {
  private static final ModelVersion DATA = new ModelVersion("sft-data", 0);

  private final Settings settings;
  private final LongSupplier ticker;

  /**
   * The run's settings.
   *
   * @param steps the step count to reach, {@code >= 1}
   * @param batchSize sequences per step, {@code >= 1}
   * @param seed the batch shuffle seed
   * @param checkpointEvery checkpoint interval in steps, {@code >= 1}
   * @param resume whether to continue from the newest checkpoint in the output directory
   */
  public record Settings(int steps, int batchSize, long seed, int checkpointEvery, boolean resume) {
    /**
     * Validates the settings.
     *
     * @param steps see the record description
     * @param batchSize see the record description
     * @param seed see the record description
     * @param checkpointEvery see the record description
     * @param resume see the record description
     * @throws IllegalArgumentException when a count is below 1
     */
    public Settings {
      Checks.checkAtLeast(steps, 1, "steps");
      Checks.checkAtLeast(batchSize, 1, "batch size");
      Checks.checkAtLeast(checkpointEvery, 1, "checkpoint interval");
    }
  }

  /**
   * Creates a run.
   *
   * @param settings the settings
   * @param ticker nanosecond time source for step timings
   */
  public SupervisedFineTuning(Settings settings, LongSupplier ticker) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.ticker = Objects.requireNonNull(ticker, "ticker");
  }

  /**
   * Trains {@code learner} on {@code data} until it has taken {@code steps} steps, then exports the
   * policy to {@code out/model.onnx}.
   *
   * @param learner the learner (its policy is trained)
   * @param data the examples, not empty; each prompt and completion non-empty
   * @param out the output directory
   * @param onStep called after every step
   * @return the steps taken in this call (none when a resumed run was already complete)
   * @throws IOException when the output cannot be written or a checkpoint cannot be read
   */
  public List<SftStep> run(
      PolicyLearner learner, List<TokenizedExample> data, Path out, Consumer<SftStep> onStep)
      throws IOException {
    Checks.checkNotEmpty(data, "training example");
    List<Generation> sequences = new ArrayList<>(data.size());
    for (int i = 0; i < data.size(); i++) {
      TokenizedExample e = data.get(i);
      Checks.checkArgument(
          e.prompt().length() > 0 && e.completion().length() > 0,
          "Expected a non-empty prompt and completion in example %d, found lengths %d and %d",
          i + 1,
          e.prompt().length(),
          e.completion().length());
      sequences.add(Generation.of(new Prompt("e" + i, e.prompt()), e.completion(), DATA));
    }
    Files.createDirectories(out);
    FileCheckpointStore store = FileCheckpointStore.open(out.resolve("checkpoints"));
    if (settings.resume()) {
      Optional<Long> latest = store.latest();
      if (latest.isPresent()) {
        try (var in = store.open(latest.get())) {
          learner.restore(in);
        }
      }
    }
    List<SftStep> taken = new ArrayList<>();
    Path metrics = out.resolve("sft-metrics.jsonl");
    try (BufferedWriter w =
        Files.newBufferedWriter(
            metrics,
            StandardCharsets.UTF_8,
            StandardOpenOption.CREATE,
            settings.resume() ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      while (learner.stepCount() < settings.steps()) {
        long index = learner.stepCount();
        List<Generation> batch =
            EpochShuffle.batch(sequences, settings.batchSize(), settings.seed(), index);
        List<WeightedSequence> weighted = new ArrayList<>(batch.size());
        long tokens = 0;
        for (Generation g : batch) {
          weighted.add(new WeightedSequence(g, -1.0 / batch.size()));
          tokens += g.completion().length();
        }
        long t0 = ticker.getAsLong();
        StepOutcome o = learner.step(weighted);
        double millis = (ticker.getAsLong() - t0) / 1e6;
        SftStep step =
            new SftStep(
                o.step(),
                o.loss(),
                o.loss() * batch.size() / tokens,
                tokens,
                o.learningRate(),
                o.gradientNorm(),
                millis);
        taken.add(step);
        w.write(toJson(step));
        w.newLine();
        w.flush();
        onStep.accept(step);
        if (o.step() % settings.checkpointEvery() == 0 || o.step() == settings.steps()) {
          store.save(o.step(), learner::snapshot);
        }
      }
    }
    learner.export(PolicyRole.POLICY, out.resolve("model.onnx"));
    return taken;
  }

  /**
   * Returns one step as a JSON object on one line.
   *
   * @param s the step
   * @return the JSON text
   */
  public static String toJson(SftStep s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("step", s.step());
    m.put("loss", s.loss());
    m.put("lossPerToken", s.lossPerToken());
    m.put("tokens", s.tokens());
    m.put("learningRate", s.learningRate());
    m.put("gradientNorm", s.gradientNorm());
    m.put("millis", s.millis());
    return Json.write(m);
  }
}
