package dev.jbond.models.generate;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.jbond.Prompt;
import dev.jbond.VerificationException;
import dev.jbond.internal.Checks;
import dev.jbond.models.decoder.DecoderBuilder;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.onnx.ort.OrtEnvironments;
import dev.jbond.onnx.ort.OrtModelSession;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Samples from a decoder's KV-cache decode graph ({@link DecoderBuilder#decodeGraph}, or any graph
 * in {@link DecodeGraphSpec}'s contract, such as a GPT-2-style decoder exported from torch with
 * past key/values under Hugging Face-like names, see {@link #forDecodeGraph}): one call over the
 * whole batch of prompts, then one call per generated token that feeds only the new token and
 * reuses the cached keys and values.
 *
 * <p>Per batch of {@code B} rows with longest prompt {@code P}:
 *
 * <ol>
 *   <li>Prefill: the prompts, left-padded to {@code P} (pad token, attention mask 0, position 0 on
 *       padding; each row's positions count from 0 at its first real token), with an empty past
 *       ({@code [B, H, 0, d/H]}). Row {@code b}'s next-token logits are those of slot {@code P-1}.
 *   <li>Step: {@code input_ids [B, 1]} (the last sampled token; the pad token with mask 0 for rows
 *       that have stopped), the mask grown by one column, {@code position_ids [B, 1]}, and as past
 *       the previous call's {@code present.*}.
 * </ol>
 *
 * The batch ends when every row has stopped; stopped rows stay in the batch (no compaction).
 *
 * <p>Tensor handling, given that ONNX Runtime's Java API has no IOBinding: the {@code present.*}
 * outputs stay native {@link OnnxTensor}s that are fed back as the next call's inputs without
 * copying them into Java; ONNX Runtime's {@code Concat} in the graph writes a new cache of length
 * {@code past + 1} each step (the graph's own cost). The logits are written by ONNX Runtime into a
 * pinned direct buffer that Java reads in place. Token ids, mask and positions go in through direct
 * buffers reused across steps. The only per-step copies outside the graph are therefore those small
 * inputs and {@code V} floats per row into the token sampler.
 *
 * <p>Small batches on their own session ({@link #withSmallBatchSession}): ONNX Runtime fixes the
 * intra-op thread count per session, and splitting the tiny kernels of a decode step of one or a
 * few rows over several threads can cost more than it saves, above all when other work competes for
 * the cores (BENCHMARKS.md, "Generation", has the measured crossover). A sampler may therefore hold
 * a second session over the same graph, typically opened with one intra-op thread, and run every
 * batch of at most {@code smallBatchRows} rows on it; larger batches run on the first session. Both
 * give the same tokens for the same seeds up to floating-point rounding (the two sessions may order
 * a sum differently). The second session holds a second copy of the weights.
 *
 * <p>Batch size: at most {@code maxBatchRows} rows, and few enough that the prefill's logits
 * ({@code rows x longest prompt x vocabulary} floats, read into Java) stay within 64 Mi floats (256
 * MiB); long prompts over a large vocabulary therefore decode in smaller batches instead of
 * failing.
 *
 * <p>Ownership: the sessions belong to the caller, who closes them after the sampler's last use.
 * Thread-safe: concurrent calls each use their own buffers.
 */
public final class KvCacheSampler implements SequenceSampler {
  /** The default largest number of rows decoded together. */
  public static final int DEFAULT_MAX_BATCH_ROWS = 64;

  private final OrtModelSession session;
  private final DecodeGraphSpec spec;
  private final DecoderConfig config;
  private final int maxBatchRows;
  private final Set<String> presentNames;
  private final OrtModelSession smallBatchSession;
  private final int smallBatchRows;
  private final long logitsBudget;

  /**
   * Creates a sampler with at most {@value #DEFAULT_MAX_BATCH_ROWS} rows per batch.
   *
   * @param decodeSession a session over the decoder's decode graph; not closed by the sampler
   * @param config the decoder's configuration
   * @throws IllegalArgumentException when the session's inputs, outputs or vocabulary do not match
   *     the decode graph of {@code config}
   * @throws IllegalStateException when the session is closed
   */
  public KvCacheSampler(OrtModelSession decodeSession, DecoderConfig config) {
    this(decodeSession, config, DEFAULT_MAX_BATCH_ROWS);
  }

  /**
   * Creates a sampler.
   *
   * @param decodeSession a session over the decoder's decode graph; not closed by the sampler
   * @param config the decoder's configuration
   * @param maxBatchRows the largest number of rows decoded together, {@code >= 1}
   * @throws IllegalArgumentException when {@code maxBatchRows < 1}, or the session's inputs,
   *     outputs or vocabulary do not match the decode graph of {@code config}
   * @throws IllegalStateException when the session is closed
   */
  public KvCacheSampler(OrtModelSession decodeSession, DecoderConfig config, int maxBatchRows) {
    this(
        decodeSession,
        DecodeGraphSpec.of(config),
        Objects.requireNonNull(config, "config"),
        maxBatchRows,
        null,
        0,
        OrtCalls.LOGITS_BUDGET_FLOATS);
  }

  /**
   * Creates a sampler over any decode graph in {@link DecodeGraphSpec}'s contract, such as a
   * GPT-2-style decoder exported from torch with past key/values, its sizes read from the graph
   * ({@link DecodeGraphSpec#read}).
   *
   * @param decodeSession a session over the decode graph; not closed by the sampler
   * @param contextLength the longest sequence (prompt plus completion) the model takes
   * @param maxBatchRows the largest number of rows decoded together, {@code >= 1}
   * @return the sampler
   * @throws IllegalArgumentException when {@code maxBatchRows < 1} or {@code contextLength < 1}, or
   *     the session's inputs and outputs are not those of a decode graph
   * @throws IllegalStateException when the session is closed
   */
  public static KvCacheSampler forDecodeGraph(
      OrtModelSession decodeSession, int contextLength, int maxBatchRows) {
    return new KvCacheSampler(
        decodeSession, DecodeGraphSpec.read(decodeSession, contextLength), maxBatchRows);
  }

  /**
   * Creates a sampler over a decode graph of the given sizes.
   *
   * @param decodeSession a session over the decode graph; not closed by the sampler
   * @param spec the graph's sizes
   * @param maxBatchRows the largest number of rows decoded together, {@code >= 1}
   * @throws IllegalArgumentException when {@code maxBatchRows < 1}, or the session's inputs,
   *     outputs or vocabulary do not match {@code spec}
   * @throws IllegalStateException when the session is closed
   */
  public KvCacheSampler(OrtModelSession decodeSession, DecodeGraphSpec spec, int maxBatchRows) {
    this(decodeSession, spec, null, maxBatchRows, null, 0, OrtCalls.LOGITS_BUDGET_FLOATS);
  }

  private KvCacheSampler(
      OrtModelSession decodeSession,
      DecodeGraphSpec spec,
      DecoderConfig config,
      int maxBatchRows,
      OrtModelSession smallBatchSession,
      int smallBatchRows,
      long logitsBudget) {
    this.session = Objects.requireNonNull(decodeSession, "decodeSession");
    this.logitsBudget = logitsBudget;
    this.spec = Objects.requireNonNull(spec, "spec");
    this.config = config;
    this.maxBatchRows = Checks.checkAtLeast(maxBatchRows, 1, "maxBatchRows");
    this.smallBatchSession = smallBatchSession;
    this.smallBatchRows = smallBatchRows;
    List<String> inputs =
        OrtCalls.withCache(
            List.of(
                DecoderBuilder.INPUT_IDS,
                DecoderBuilder.ATTENTION_MASK,
                DecoderBuilder.POSITION_IDS),
            spec.layers(),
            true);
    List<String> outputs = OrtCalls.withCache(List.of(DecoderBuilder.LOGITS), spec.layers(), false);
    OrtCalls.checkSession(session, "decode graph", inputs, outputs, spec.vocabSize());
    if (smallBatchSession != null) {
      OrtCalls.checkSession(
          smallBatchSession, "small-batch decode graph", inputs, outputs, spec.vocabSize());
    }
    this.presentNames = new LinkedHashSet<>(outputs.subList(1, outputs.size()));
  }

  /**
   * Returns a sampler like this one that runs every batch of at most {@code smallBatchRows} rows on
   * {@code smallBatchSession} and larger batches on this sampler's session. Meant for a second
   * session over the same decode graph opened with one intra-op thread ({@link
   * dev.jbond.onnx.ort.SessionConfig#withIntraOpThreads}), which can decode small batches faster on
   * a multi-core CPU, above all one shared with other work; see the class description. The caller
   * makes sure both sessions hold the same weights: only the inputs, outputs and vocabulary are
   * checked. A batch is the rows decoded together: at most {@code maxBatchRows} of a request's
   * {@code prompts x samplesPerPrompt} rows (the last batch holds the remainder).
   *
   * @param smallBatchSession a session over the same decode graph; not closed by the sampler
   * @param smallBatchRows the largest batch run on {@code smallBatchSession}, {@code >= 1}
   * @return the new sampler; this one is unchanged
   * @throws IllegalArgumentException when {@code smallBatchRows < 1}, or the session's inputs,
   *     outputs or vocabulary do not match this sampler's graph
   * @throws IllegalStateException when the session is closed
   */
  public KvCacheSampler withSmallBatchSession(
      OrtModelSession smallBatchSession, int smallBatchRows) {
    Objects.requireNonNull(smallBatchSession, "smallBatchSession");
    Checks.checkAtLeast(smallBatchRows, 1, "smallBatchRows");
    return new KvCacheSampler(
        session, spec, config, maxBatchRows, smallBatchSession, smallBatchRows, logitsBudget);
  }

  /** A copy of this sampler whose batches keep their prefill logits within {@code floats}. */
  KvCacheSampler withLogitsBudget(long floats) {
    return new KvCacheSampler(
        session, spec, config, maxBatchRows, smallBatchSession, smallBatchRows, floats);
  }

  /** The most prefill logits floats of one batch. */
  long logitsBudget() {
    return logitsBudget;
  }

  /**
   * Returns the largest batch run on the small-batch session, 0 when there is none.
   *
   * @return the small-batch threshold
   */
  public int smallBatchRows() {
    return smallBatchRows;
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
        DecodeLoop.batchRows(prompts, maxBatchRows, spec.vocabSize(), 0, logitsBudget),
        session.modelName(),
        CacheEngine::new);
  }

  /**
   * Draws one completion per prompt with explicit per-sequence seeds: row {@code i} draws from
   * {@code new SplittableRandom(sequenceSeeds[i])}. With {@code sequenceSeeds[i] =
   * SequenceSeeds.seed(s, id, j)} row {@code i} equals sample {@code j} of {@link #sample} with
   * request seed {@code s} for the prompt with that id (up to floating-point rounding in another
   * batch shape), so a server that receives sequence seeds, such as a Triton-protocol server, can
   * merge independent requests into one batch.
   *
   * @param prompts the prompts, not empty; see {@link #sample} for the limits
   * @param sequenceSeeds one seed per prompt
   * @param config how to sample and when to stop
   * @return one sequence per prompt, in order, each with sample index 0
   * @throws IllegalArgumentException see {@link #sample}; also when the seed count differs from the
   *     prompt count
   * @throws IllegalStateException when the session is closed
   * @throws dev.jbond.BackendException when ONNX Runtime fails or the model returns non-finite
   *     logits
   */
  public List<SampledSequence> sampleSeeded(
      List<Prompt> prompts, long[] sequenceSeeds, SamplingConfig config) {
    return DecodeLoop.runSeeded(
        prompts,
        sequenceSeeds,
        config,
        spec,
        DecodeLoop.batchRows(prompts, maxBatchRows, spec.vocabSize(), 0, logitsBudget),
        session.modelName(),
        CacheEngine::new);
  }

  /**
   * {@inheritDoc}
   *
   * <p>For a sampler built from a decode graph's sizes alone ({@link #forDecodeGraph}, {@link
   * #KvCacheSampler(OrtModelSession, DecodeGraphSpec, int)}) this is {@link
   * DecodeGraphSpec#toDecoderConfig()}: only its sizes describe the model.
   */
  @Override
  public DecoderConfig decoderConfig() {
    return config != null ? config : spec.toDecoderConfig();
  }

  /**
   * Returns the sizes of the decode graph this sampler runs.
   *
   * @return the spec
   */
  public DecodeGraphSpec graphSpec() {
    return spec;
  }

  /** The decode session, for {@link InflightDecoder}. */
  OrtModelSession session() {
    return session;
  }

  /** The names of the {@code present.*} outputs, in layer order (key, value). */
  Set<String> presentNames() {
    return presentNames;
  }

  /** Returns the model name, the batch limit and the small-batch threshold. */
  @Override
  public String toString() {
    return "KvCacheSampler '"
        + session.modelName()
        + "' maxBatchRows="
        + maxBatchRows
        + " smallBatchRows="
        + smallBatchRows;
  }

  /** Drives the decode graph for one batch. */
  private final class CacheEngine implements DecodeLoop.Engine {
    private final OrtEnvironment environment = OrtEnvironments.shared();
    private final OrtSession raw;
    private final int rows;
    private final int longest;
    private final int vocab = spec.vocabSize();
    private final long padToken;
    private final long[][] mask;
    private final int[] nextPosition;
    private final LongBuffer ids;
    private final LongBuffer positions;
    private final LongBuffer maskBuffer;
    private final FloatBuffer logits;
    private OrtSession.Result cache;
    private int total;
    private int step;

    CacheEngine(int rows, int longest, SamplingConfig sampling) {
      this.raw = (rows <= smallBatchRows ? smallBatchSession : session).unwrap();
      this.rows = rows;
      this.longest = longest;
      this.padToken = sampling.padTokenId();
      int slots = longest + sampling.maxNewTokens();
      this.mask = new long[rows][slots];
      this.nextPosition = new int[rows];
      this.ids = OrtCalls.longs((long) rows * longest, "the input ids");
      this.positions = OrtCalls.longs((long) rows * longest, "the position ids");
      this.maskBuffer = OrtCalls.longs((long) rows * slots, "the attention mask");
      this.logits = OrtCalls.floats((long) rows * longest * vocab, "the prompt logits");
    }

    @Override
    public void prefill(int[][] prompts) {
      for (int b = 0; b < rows; b++) {
        int pad = longest - prompts[b].length;
        for (int s = 0; s < longest; s++) {
          boolean real = s >= pad;
          ids.put(b * longest + s, real ? prompts[b][s - pad] : padToken);
          positions.put(b * longest + s, real ? s - pad : 0);
          mask[b][s] = real ? 1 : 0;
        }
        nextPosition[b] = prompts[b].length;
      }
      total = longest;
      List<OnnxTensor> created = new ArrayList<>();
      try {
        Map<String, OnnxTensorLike> feed = inputs(created, longest);
        OnnxTensor empty =
            OrtCalls.emptyFloats(environment, rows, spec.heads(), 0, spec.headWidth());
        created.add(empty);
        for (int i = 0; i < spec.layers(); i++) {
          feed.put(DecoderBuilder.pastKey(i), empty);
          feed.put(DecoderBuilder.pastValue(i), empty);
        }
        cache = run(feed, created, longest);
      } catch (OrtException e) {
        throw OrtCalls.wrap(
            e, "prefill " + rows + " prompts on model '" + session.modelName() + "'");
      } finally {
        OrtCalls.closeAll(created);
      }
    }

    @Override
    public void advance(int[] tokens, boolean[] active) {
      for (int b = 0; b < rows; b++) {
        ids.put(b, active[b] ? tokens[b] : padToken);
        positions.put(b, active[b] ? nextPosition[b]++ : 0);
        mask[b][total] = active[b] ? 1 : 0;
      }
      total++;
      step++;
      List<OnnxTensor> created = new ArrayList<>();
      try {
        Map<String, OnnxTensorLike> feed = inputs(created, 1);
        for (int i = 0; i < spec.layers(); i++) {
          feed.put(DecoderBuilder.pastKey(i), present(DecoderBuilder.presentKey(i)));
          feed.put(DecoderBuilder.pastValue(i), present(DecoderBuilder.presentValue(i)));
        }
        OrtSession.Result next = run(feed, created, 1);
        cache.close();
        cache = next;
      } catch (OrtException e) {
        throw OrtCalls.wrap(
            e, "run decode step " + step + " of model '" + session.modelName() + "'");
      } finally {
        OrtCalls.closeAll(created);
      }
    }

    /** The ids, mask and position tensors of a call that feeds {@code fresh} slots per row. */
    private Map<String, OnnxTensorLike> inputs(List<OnnxTensor> created, int fresh)
        throws OrtException {
      for (int b = 0; b < rows; b++) {
        maskBuffer.put(b * total, mask[b], 0, total);
      }
      Map<String, OnnxTensorLike> feed = new HashMap<>();
      feed.put(
          DecoderBuilder.INPUT_IDS,
          OrtCalls.track(created, OrtCalls.view(environment, ids, rows, fresh)));
      feed.put(
          DecoderBuilder.POSITION_IDS,
          OrtCalls.track(created, OrtCalls.view(environment, positions, rows, fresh)));
      feed.put(
          DecoderBuilder.ATTENTION_MASK,
          OrtCalls.track(created, OrtCalls.view(environment, maskBuffer, rows, total)));
      return feed;
    }

    private OrtSession.Result run(
        Map<String, OnnxTensorLike> feed, List<OnnxTensor> created, int fresh) throws OrtException {
      OnnxTensor pinned =
          OrtCalls.track(created, OrtCalls.view(environment, logits, rows, fresh, vocab));
      return raw.run(feed, presentNames, Map.of(DecoderBuilder.LOGITS, pinned));
    }

    private OnnxTensor present(String name) {
      return (OnnxTensor)
          cache
              .get(name)
              .orElseThrow(
                  () ->
                      new VerificationException(
                          "Expected output '"
                              + name
                              + "' from model '"
                              + session.modelName()
                              + "', found none"));
    }

    @Override
    public FloatBuffer logits() {
      return logits;
    }

    @Override
    public int offset(int row) {
      return step == 0 ? (row * longest + longest - 1) * vocab : row * vocab;
    }

    @Override
    public void close() {
      if (cache != null) {
        cache.close();
        cache = null;
      }
    }
  }
}
