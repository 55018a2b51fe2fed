package dev.jbond.models.generate;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.jbond.Prompt;
import dev.jbond.internal.Checks;
import dev.jbond.models.decoder.DecoderBuilder;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.onnx.ort.OrtEnvironments;
import dev.jbond.onnx.ort.OrtModelSession;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The no-cache baseline: samples from a decoder's full-sequence graph ({@link
 * DecoderBuilder#fullGraph}), recomputing the whole sequence (prompt and tokens so far) for every
 * generated token. Same rows, seeds and token sampling as {@link KvCacheSampler}, so both give the
 * same completions up to floating-point rounding of the logits; it exists to measure what the cache
 * saves and to check the cache against the training graph.
 *
 * <p>Each call feeds the rows that are still active, right-padded to the longest (the full graph
 * counts positions from 0 in every row, so padding goes after the real tokens, where causal
 * attention never sees it), and reads each row's logits at its last real token from a pinned direct
 * buffer.
 *
 * <p>Ownership: the session belongs to the caller, who closes it after the sampler's last use.
 * Thread-safe: concurrent calls each use their own buffers.
 */
public final class FullSequenceSampler implements SequenceSampler {
  private final OrtModelSession session;
  private final DecodeGraphSpec spec;
  private final boolean masked;
  private final boolean positioned;
  private final int maxBatchRows;

  /**
   * Creates a sampler with at most {@value KvCacheSampler#DEFAULT_MAX_BATCH_ROWS} rows per batch.
   *
   * @param fullSession a session over the decoder's full-sequence graph; not closed by the sampler
   * @param config the decoder's configuration
   * @throws IllegalArgumentException when the session's inputs, outputs or vocabulary do not match
   *     the full-sequence graph of {@code config}
   * @throws IllegalStateException when the session is closed
   */
  public FullSequenceSampler(OrtModelSession fullSession, DecoderConfig config) {
    this(fullSession, config, KvCacheSampler.DEFAULT_MAX_BATCH_ROWS);
  }

  /**
   * Creates a sampler.
   *
   * @param fullSession a session over the decoder's full-sequence graph; not closed by the sampler
   * @param config the decoder's configuration
   * @param maxBatchRows the largest number of rows decoded together, {@code >= 1}
   * @throws IllegalArgumentException when {@code maxBatchRows < 1}, or the session's inputs,
   *     outputs or vocabulary do not match the full-sequence graph of {@code config}
   * @throws IllegalStateException when the session is closed
   */
  public FullSequenceSampler(OrtModelSession fullSession, DecoderConfig config, int maxBatchRows) {
    this(
        fullSession,
        Objects.requireNonNull(config, "config").vocabSize(),
        config.contextLength(),
        maxBatchRows);
  }

  /**
   * Creates a sampler over any full-sequence graph in the policy contract ({@code input_ids}, with
   * or without {@code attention_mask} and {@code position_ids}, to {@code logits}), such as a
   * causal LM exported from PyTorch or Hugging Face without past key/values.
   *
   * @param fullSession a session over the full-sequence graph; not closed by the sampler
   * @param vocabSize the logits' last dimension
   * @param contextLength the longest sequence the model takes
   * @param maxBatchRows the largest number of rows decoded together, {@code >= 1}
   * @throws IllegalArgumentException when a size is below 1, or the session's inputs, outputs or
   *     vocabulary are not those of a full-sequence graph
   * @throws IllegalStateException when the session is closed
   */
  public FullSequenceSampler(
      OrtModelSession fullSession, int vocabSize, int contextLength, int maxBatchRows) {
    this.session = Objects.requireNonNull(fullSession, "fullSession");
    this.maxBatchRows = Checks.checkAtLeast(maxBatchRows, 1, "maxBatchRows");
    this.masked = session.inputNames().contains(DecoderBuilder.ATTENTION_MASK);
    this.positioned = session.inputNames().contains(DecoderBuilder.POSITION_IDS);
    List<String> inputs = new ArrayList<>(List.of(DecoderBuilder.INPUT_IDS));
    if (masked) {
      inputs.add(DecoderBuilder.ATTENTION_MASK);
    }
    if (positioned) {
      inputs.add(DecoderBuilder.POSITION_IDS);
    }
    OrtCalls.checkSession(
        session, "full-sequence graph", inputs, List.of(DecoderBuilder.LOGITS), vocabSize);
    this.spec = DecodeGraphSpec.withoutCache(vocabSize, contextLength);
  }

  /**
   * Draws one completion per prompt, row {@code i} seeded with {@code sequenceSeeds[i]} exactly as
   * {@link KvCacheSampler#sampleSeeded} does.
   *
   * @param prompts the prompts, not empty
   * @param sequenceSeeds one seed per prompt
   * @param config how to sample and when to stop
   * @return one sequence per prompt, in order
   * @throws IllegalArgumentException as {@link #sample}, or when the seeds and prompts differ in
   *     number
   */
  public List<SampledSequence> sampleSeeded(
      List<Prompt> prompts, long[] sequenceSeeds, SamplingConfig config) {
    return DecodeLoop.runSeeded(
        prompts,
        sequenceSeeds,
        config,
        spec,
        batchRows(prompts, config),
        session.modelName(),
        RecomputeEngine::new);
  }

  @Override
  public List<SampledSequence> sample(
      List<Prompt> prompts, int samplesPerPrompt, SamplingConfig config, long seed) {
    return DecodeLoop.run(
        prompts,
        samplesPerPrompt,
        config,
        seed,
        spec,
        batchRows(prompts, config),
        session.modelName(),
        RecomputeEngine::new);
  }

  /** The rows decoded together: the recompute engine holds logits of every position. */
  private int batchRows(List<Prompt> prompts, SamplingConfig config) {
    return DecodeLoop.batchRows(
        prompts,
        maxBatchRows,
        spec.vocabSize(),
        config == null ? 0 : config.maxNewTokens(),
        OrtCalls.LOGITS_BUDGET_FLOATS);
  }

  @Override
  public DecoderConfig decoderConfig() {
    return spec.toDecoderConfig();
  }

  /**
   * Returns the graph's sizes (one cache layer of width 1 stands for none).
   *
   * @return the spec
   */
  public DecodeGraphSpec graphSpec() {
    return spec;
  }

  /** Returns the model name and the batch limit. */
  @Override
  public String toString() {
    return "FullSequenceSampler '" + session.modelName() + "' maxBatchRows=" + maxBatchRows;
  }

  /** Drives the full-sequence graph for one batch. */
  private final class RecomputeEngine implements DecodeLoop.Engine {
    private final OrtEnvironment environment = OrtEnvironments.shared();
    private final OrtSession raw = session.unwrap();
    private final int rows;
    private final int vocab = spec.vocabSize();
    private final long padToken;
    private final int[][] sequences;
    private final int[] lengths;
    private final int[] rank;
    private final LongBuffer ids;
    private final LongBuffer mask;
    private final LongBuffer positions;
    private final FloatBuffer logits;
    private int width;
    private int step;

    RecomputeEngine(int rows, int longest, SamplingConfig sampling) {
      this.rows = rows;
      this.padToken = sampling.padTokenId();
      int slots = longest + sampling.maxNewTokens();
      this.sequences = new int[rows][slots];
      this.lengths = new int[rows];
      this.rank = new int[rows];
      this.ids = OrtCalls.longs((long) rows * slots, "the input ids");
      this.mask = OrtCalls.longs((long) rows * slots, "the attention mask");
      this.positions = OrtCalls.longs((long) rows * slots, "the position ids");
      this.logits = OrtCalls.floats((long) rows * slots * vocab, "the logits");
    }

    @Override
    public void prefill(int[][] prompts) {
      boolean[] all = new boolean[rows];
      for (int b = 0; b < rows; b++) {
        System.arraycopy(prompts[b], 0, sequences[b], 0, prompts[b].length);
        lengths[b] = prompts[b].length;
        all[b] = true;
      }
      compute(all);
    }

    @Override
    public void advance(int[] tokens, boolean[] active) {
      for (int b = 0; b < rows; b++) {
        if (active[b]) {
          sequences[b][lengths[b]++] = tokens[b];
        }
      }
      step++;
      compute(active);
    }

    private void compute(boolean[] active) {
      int count = 0;
      width = 0;
      for (int b = 0; b < rows; b++) {
        if (active[b]) {
          rank[b] = count++;
          width = Math.max(width, lengths[b]);
        }
      }
      for (int b = 0; b < rows; b++) {
        if (active[b]) {
          int base = rank[b] * width;
          for (int s = 0; s < width; s++) {
            boolean real = s < lengths[b];
            ids.put(base + s, real ? sequences[b][s] : padToken);
            mask.put(base + s, real ? 1 : 0);
            positions.put(base + s, real ? s : 0);
          }
        }
      }
      List<OnnxTensor> created = new ArrayList<>();
      try {
        OnnxTensor idTensor = OrtCalls.view(environment, ids, count, width);
        created.add(idTensor);
        Map<String, OnnxTensorLike> feed = new HashMap<>();
        feed.put(DecoderBuilder.INPUT_IDS, idTensor);
        if (masked) {
          OnnxTensor maskTensor = OrtCalls.view(environment, mask, count, width);
          created.add(maskTensor);
          feed.put(DecoderBuilder.ATTENTION_MASK, maskTensor);
        }
        if (positioned) {
          OnnxTensor positionTensor = OrtCalls.view(environment, positions, count, width);
          created.add(positionTensor);
          feed.put(DecoderBuilder.POSITION_IDS, positionTensor);
        }
        OnnxTensor pinned = OrtCalls.view(environment, logits, count, width, vocab);
        created.add(pinned);
        raw.run(feed, Set.of(), Map.of(DecoderBuilder.LOGITS, pinned)).close();
      } catch (OrtException e) {
        throw OrtCalls.wrap(
            e, "run recompute step " + step + " of model '" + session.modelName() + "'");
      } finally {
        OrtCalls.closeAll(created);
      }
    }

    @Override
    public FloatBuffer logits() {
      return logits;
    }

    @Override
    public int offset(int row) {
      return (rank[row] * width + lengths[row] - 1) * vocab;
    }

    @Override
    public void close() {}
  }
}
