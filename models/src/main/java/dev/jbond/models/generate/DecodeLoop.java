package dev.jbond.models.generate;

import dev.jbond.Prompt;
import dev.jbond.internal.Checks;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * The decoding loop shared by {@link KvCacheSampler} and {@link FullSequenceSampler}: input checks,
 * rows in prompt-major order, batches of at most {@code maxBatchRows} rows, and per row the seeded
 * draws, stop conditions and log-probs. How the next-token logits are computed is the {@link
 * Engine}'s business.
 */
final class DecodeLoop {
  private DecodeLoop() {}

  /**
   * Computes next-token logits for one batch of rows. Call order: {@link #prefill} once, then
   * {@link #advance} once per generated token while a row is active; after each, {@link #logits}
   * and {@link #offset} locate every active row's next-token logits. Closing releases native state.
   */
  interface Engine extends AutoCloseable {
    /** Feeds the prompts; afterwards every row has next-token logits. */
    void prefill(int[][] prompts);

    /**
     * Feeds one token per row: {@code tokens[b]} for active rows, the pad token (masked) for the
     * others; afterwards every active row has next-token logits.
     */
    void advance(int[] tokens, boolean[] active);

    /** The buffer holding the next-token logits. */
    FloatBuffer logits();

    /** Where row {@code row}'s next-token logits start in {@link #logits()}. */
    int offset(int row);

    @Override
    void close();
  }

  /** Creates an engine for one batch. */
  @FunctionalInterface
  interface EngineFactory {
    Engine create(int rows, int longestPrompt, SamplingConfig config);
  }

  /** Checks a request against the decoder; the messages name the offending prompt. */
  static void checkRequest(
      List<Prompt> prompts, int samplesPerPrompt, SamplingConfig config, DecodeGraphSpec decoder) {
    Objects.requireNonNull(prompts, "prompts");
    Objects.requireNonNull(config, "config");
    Checks.checkNotEmpty(prompts, "prompt");
    Checks.checkAtLeast(samplesPerPrompt, 1, "samples per prompt");
    config.checkVocabulary(decoder.vocabSize());
    for (Prompt prompt : prompts) {
      Objects.requireNonNull(prompt, "prompt");
      int length = prompt.tokens().length();
      Checks.checkArgument(
          length >= 1, "Expected a non-empty prompt, found no tokens in prompt '%s'", prompt.id());
      Checks.checkArgument(
          length + config.maxNewTokens() <= decoder.contextLength(),
          "Expected prompt length + maxNewTokens <= context length %d, found %d + %d in prompt '%s'",
          decoder.contextLength(),
          length,
          config.maxNewTokens(),
          prompt.id());
      prompt.tokens().checkVocabulary(decoder.vocabSize(), "prompt '" + prompt.id() + "'");
    }
  }

  /**
   * The batch size for a request: at most {@code maxBatchRows}, and few enough that {@code rows x
   * (longest prompt + extraColumns) x vocabulary} logits fit in {@code budget} floats.
   */
  static int batchRows(
      List<Prompt> prompts, int maxBatchRows, int vocab, int extraColumns, long budget) {
    int longest = 0;
    if (prompts != null) {
      for (Prompt prompt : prompts) {
        if (prompt != null) {
          longest = Math.max(longest, prompt.tokens().length());
        }
      }
    }
    return OrtCalls.rowsWithin(maxBatchRows, (long) (longest + extraColumns) * vocab, budget);
  }

  /** Runs a checked request; see {@link SequenceSampler#sample}. */
  static List<SampledSequence> run(
      List<Prompt> prompts,
      int samplesPerPrompt,
      SamplingConfig config,
      long seed,
      DecodeGraphSpec decoder,
      int maxBatchRows,
      String modelName,
      EngineFactory engines) {
    checkRequest(prompts, samplesPerPrompt, config, decoder);
    long rowCount = (long) prompts.size() * samplesPerPrompt;
    Checks.checkArgument(
        rowCount <= Integer.MAX_VALUE - 8,
        "Expected prompts x samples under 2^31, found %d x %d",
        prompts.size(),
        samplesPerPrompt);
    List<SampledSequence> out = new ArrayList<>((int) rowCount);
    for (int from = 0; from < rowCount; from += maxBatchRows) {
      int to = (int) Math.min(rowCount, (long) from + maxBatchRows);
      Batch batch = new Batch(to - from, config, decoder.vocabSize());
      for (int r = from; r < to; r++) {
        Prompt prompt = prompts.get(r / samplesPerPrompt);
        batch.addRow(prompt, r % samplesPerPrompt, seed);
      }
      batch.run(engines, modelName);
      out.addAll(batch.results());
    }
    return out;
  }

  /**
   * Runs a checked request of one row per prompt, row {@code i} drawing from {@code new
   * SplittableRandom(sequenceSeeds[i])}; see {@link KvCacheSampler#sampleSeeded}.
   */
  static List<SampledSequence> runSeeded(
      List<Prompt> prompts,
      long[] sequenceSeeds,
      SamplingConfig config,
      DecodeGraphSpec decoder,
      int maxBatchRows,
      String modelName,
      EngineFactory engines) {
    checkRequest(prompts, 1, config, decoder);
    Objects.requireNonNull(sequenceSeeds, "sequenceSeeds");
    Checks.checkSameLength(prompts.size(), sequenceSeeds.length, "sequence seeds (one per prompt)");
    List<SampledSequence> out = new ArrayList<>(prompts.size());
    for (int from = 0; from < prompts.size(); from += maxBatchRows) {
      int to = Math.min(prompts.size(), from + maxBatchRows);
      Batch batch = new Batch(to - from, config, decoder.vocabSize());
      for (int r = from; r < to; r++) {
        batch.addRow(prompts.get(r), 0, new SplittableRandom(sequenceSeeds[r]));
      }
      batch.run(engines, modelName);
      out.addAll(batch.results());
    }
    return out;
  }

  /** The rows of one batch and their state. */
  private static final class Batch {
    private final SamplingConfig config;
    private final int vocab;
    private final List<SequenceDraws> rows;

    Batch(int rows, SamplingConfig config, int vocab) {
      this.config = config;
      this.vocab = vocab;
      this.rows = new ArrayList<>(rows);
    }

    void addRow(Prompt prompt, int sample, long seed) {
      addRow(prompt, sample, SequenceSeeds.random(seed, prompt.id(), sample));
    }

    void addRow(Prompt prompt, int sample, SplittableRandom random) {
      rows.add(new SequenceDraws(prompt, sample, config, random));
    }

    void run(EngineFactory engines, String modelName) {
      int size = rows.size();
      int[][] promptTokens = new int[size][];
      int longest = 0;
      for (int b = 0; b < size; b++) {
        promptTokens[b] = rows.get(b).prompt.tokens().toArray();
        longest = Math.max(longest, promptTokens[b].length);
      }
      TokenSampler sampler = new TokenSampler(config, vocab);
      int[] next = new int[size];
      boolean[] active = new boolean[size];
      try (Engine engine = engines.create(size, longest, config)) {
        engine.prefill(promptTokens);
        while (true) {
          boolean any = false;
          FloatBuffer logits = engine.logits();
          for (int b = 0; b < size; b++) {
            SequenceDraws row = rows.get(b);
            next[b] = config.padTokenId();
            if (row.active()) {
              row.draw(sampler, logits, engine.offset(b), modelName);
              if (row.active()) {
                next[b] = row.last();
                any = true;
              }
            }
            active[b] = row.active();
          }
          if (!any) {
            break;
          }
          engine.advance(next, active);
        }
      }
    }

    List<SampledSequence> results() {
      List<SampledSequence> out = new ArrayList<>(rows.size());
      for (SequenceDraws row : rows) {
        out.add(row.toSequence());
      }
      return out;
    }
  }
}
