package dev.jbond.models.generate;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.jbond.BackendException;
import dev.jbond.LogProbs;
import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.internal.Checks;
import dev.jbond.models.decoder.DecoderBuilder;
import dev.jbond.onnx.ort.OrtEnvironments;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Predicate;

/**
 * In-flight (iteration-level) batching over a KV-cache decode graph: sequences join a running batch
 * between decode steps and leave it as soon as they stop, as TensorRT-LLM's in-flight batcher does,
 * instead of waiting for the batch in progress to finish. A serving thread drives it: {@link
 * #admit} the rows that arrived, {@link #step} once, hand out the rows that finished, repeat.
 *
 * <p>Each row draws from {@code new SplittableRandom(seed)} with its own {@link SamplingConfig}
 * (rows with different settings share a batch), so a row's tokens equal those of {@link
 * KvCacheSampler#sampleSeeded} with the same seed whatever else is in the batch and whenever it
 * joined (up to floating-point rounding of another batch shape: the decode graph masks padding with
 * a score of {@link DecoderBuilder#MASKED_SCORE}, whose weight is exactly 0).
 *
 * <p>The cache. Rows are right-aligned in a cache of length {@code T}: row {@code b} holds its
 * prompt and its fed completion tokens in columns {@code [start_b, T)}, the columns before it
 * masked. The decoder owns the cache: two sets of direct buffers, one per {@code present.*} tensor,
 * used in turn. A step reads the past from one set in place and has ONNX Runtime write the {@code
 * present.*} outputs (length {@code T + 1}) into the other (pinned outputs), so the cache is never
 * copied through Java. Admitting rows prefills them in one call of their own (left-padded, empty
 * past) and draws their first tokens; then
 *
 * <ul>
 *   <li>into an idle decoder, the prefill's outputs, written straight into the cache buffers,
 *       become the cache: a burst of rows that arrives together decodes exactly as one {@link
 *       KvCacheSampler} batch;
 *   <li>into a running batch, when stopped rows have left enough slots and no new prompt is longer
 *       than {@code T}, each new row is written into a free slot in place (only its own columns);
 *   <li>otherwise the live rows and the new rows are copied into a new layout of length {@code T' =
 *       max(longest live row, longest new prompt)}, which also drops stopped rows and trims columns
 *       no live row uses.
 * </ul>
 *
 * Stopped rows stay in the batch, masked, until their slot is reused, half the batch has stopped or
 * the cache would outgrow the context length; the last two compact the batch with one copy. Buffers
 * are sized for the current rows' longest remaining generation, and grow when rows join.
 *
 * <p>Failures: {@link #admit} leaves the running batch as it was when the new rows' prefill fails;
 * after {@link #step} throws, the caller takes the rows back with {@link #clear()}.
 *
 * <p>Not thread-safe: one thread drives a decoder. The session belongs to the {@link
 * KvCacheSampler} it came from; {@link #close()} releases only the cache.
 *
 * @param <T> the caller's tag of a row, handed back when the row finishes
 */
public final class InflightDecoder<T> implements AutoCloseable {
  /**
   * A row to admit.
   *
   * @param tag the caller's handle, returned in {@link Finished#tag()}
   * @param prompt the prompt, non-empty, {@code length + config.maxNewTokens() <= context length}
   * @param seed the row's seed: it draws from {@code new SplittableRandom(seed)}
   * @param config how the row samples and when it stops
   * @param <T> the tag type
   */
  public record Join<T>(T tag, Prompt prompt, long seed, SamplingConfig config) {
    /**
     * Checks the components for null.
     *
     * @param tag see the record description
     * @param prompt see the record description
     * @param seed see the record description
     * @param config see the record description
     */
    public Join {
      Objects.requireNonNull(tag, "tag");
      Objects.requireNonNull(prompt, "prompt");
      Objects.requireNonNull(config, "config");
    }
  }

  /**
   * A row that stopped, with its completion.
   *
   * @param tag the tag given at {@link #admit}
   * @param sequence the completion (sample index 0) and its log-probs
   * @param <T> the tag type
   */
  public record Finished<T>(T tag, SampledSequence sequence) {}

  private final OrtEnvironment environment = OrtEnvironments.shared();
  private final KvCacheSampler sampler;
  private final OrtSession raw;
  private final DecodeGraphSpec spec;
  private final int maxRows;
  private final int vocab;
  private final Map<SamplingConfig, TokenSampler> tokenSamplers = new HashMap<>();
  private final List<Row<T>> rows = new ArrayList<>();
  private final LongBuffer stepIds;
  private final LongBuffer stepPositions;
  private final LongBuffer stepMask;
  private final FloatBuffer stepLogits;
  private final int cacheTensors;
  private FloatBuffer[] current;
  private FloatBuffer[] spare;
  private int length;
  private int live;
  private long steps;
  private long admissions;
  private long copies;
  private long reuses;

  /**
   * Creates a decoder over a sampler's decode graph.
   *
   * @param sampler the KV-cache sampler whose session and graph sizes to use
   * @param maxRows the most live rows in the batch, {@code >= 1}
   * @throws IllegalArgumentException when {@code maxRows < 1}
   */
  public InflightDecoder(KvCacheSampler sampler, int maxRows) {
    this.sampler = Objects.requireNonNull(sampler, "sampler");
    this.maxRows = Checks.checkAtLeast(maxRows, 1, "maxRows");
    this.raw = sampler.session().unwrap();
    this.spec = sampler.graphSpec();
    this.vocab = spec.vocabSize();
    this.stepIds = OrtCalls.longs(maxRows, "the step input ids");
    this.stepPositions = OrtCalls.longs(maxRows, "the step position ids");
    this.stepMask =
        OrtCalls.longs((long) maxRows * spec.contextLength(), "the step attention mask");
    this.stepLogits = OrtCalls.floats((long) maxRows * vocab, "the step logits");
    this.cacheTensors = 2 * spec.layers();
  }

  /**
   * Returns how many rows are decoding (admitted and not stopped).
   *
   * @return the live row count
   */
  public int liveRows() {
    return live;
  }

  /**
   * Returns how many more rows {@link #admit} takes now.
   *
   * @return {@code maxRows - liveRows()}
   */
  public int freeRows() {
    return maxRows - live;
  }

  /**
   * Returns whether no row is decoding.
   *
   * @return {@code liveRows() == 0}
   */
  public boolean isIdle() {
    return live == 0;
  }

  /**
   * Returns how many decode steps have run.
   *
   * @return the step count
   */
  public long stepCount() {
    return steps;
  }

  /**
   * Returns how many {@link #admit} calls have prefilled rows.
   *
   * @return the admission count
   */
  public long admissionCount() {
    return admissions;
  }

  /**
   * Returns how many times the live rows were copied into a new cache layout (merges that did not
   * fit free slots, compactions and trims at the context length).
   *
   * @return the copy count
   */
  public long cacheCopyCount() {
    return copies;
  }

  /**
   * Returns how many admitted rows were written into the free slot of a stopped row, in place.
   *
   * @return the slot reuse count
   */
  public long slotReuseCount() {
    return reuses;
  }

  /**
   * Prefills rows, draws their first tokens and merges them into the running batch; they advance
   * with the next {@link #step}.
   *
   * @param joins the rows, at most {@link #freeRows()}; none is a no-op
   * @return the rows that stopped at their first token (EOS, or one new token at most)
   * @throws IllegalArgumentException when there are more rows than free rows, or a row's prompt or
   *     settings do not fit the decoder (empty prompt, too long for the context, token ids or pad
   *     id outside the vocabulary); no row is admitted then
   * @throws BackendException when ONNX Runtime fails or returns non-finite logits; no row is
   *     admitted and the running batch is unchanged
   */
  public List<Finished<T>> admit(List<Join<T>> joins) {
    Objects.requireNonNull(joins, "joins");
    if (joins.isEmpty()) {
      return List.of();
    }
    Checks.checkArgument(
        joins.size() <= freeRows(),
        "Expected at most %d rows to admit (%d live of %d), found %d",
        freeRows(),
        live,
        maxRows,
        joins.size());
    int longest = 0;
    for (Join<T> join : joins) {
      Objects.requireNonNull(join, "join");
      DecodeLoop.checkRequest(List.of(join.prompt()), 1, join.config(), spec);
      longest = Math.max(longest, join.prompt().tokens().length());
    }
    int count = joins.size();
    List<Row<T>> fresh = new ArrayList<>(count);
    for (Join<T> join : joins) {
      fresh.add(new Row<>(join));
    }
    LongBuffer ids = OrtCalls.longs((long) count * longest, "the prefill input ids");
    LongBuffer positions = OrtCalls.longs((long) count * longest, "the prefill position ids");
    LongBuffer mask = OrtCalls.longs((long) count * longest, "the prefill attention mask");
    FloatBuffer logits = OrtCalls.floats((long) count * longest * vocab, "the prefill logits");
    for (int r = 0; r < count; r++) {
      Row<T> row = fresh.get(r);
      int[] prompt = row.promptTokens;
      int pad = longest - prompt.length;
      for (int s = 0; s < longest; s++) {
        boolean real = s >= pad;
        ids.put(r * longest + s, real ? prompt[s - pad] : row.config.padTokenId());
        positions.put(r * longest + s, real ? s - pad : 0);
        mask.put(r * longest + s, real ? 1 : 0);
      }
      row.nextPosition = prompt.length;
      row.start = pad;
      row.end = longest;
    }
    // An idle decoder takes the prefill's outputs as its cache: write them into cache buffers
    // sized for the whole generation. Otherwise into scratch buffers, to be placed below.
    boolean adopt = rows.isEmpty();
    long prefillFloats = (long) count * spec.heads() * longest * spec.headWidth();
    FloatBuffer[] prefill =
        adopt
            ? allocate(Math.max(prefillFloats, capacityFor(count, longest, fresh)))
            : allocate(prefillFloats);
    List<OnnxTensor> created = new ArrayList<>();
    try {
      Map<String, OnnxTensorLike> feed = new HashMap<>();
      feed.put(DecoderBuilder.INPUT_IDS, track(created, view(ids, count, longest)));
      feed.put(DecoderBuilder.POSITION_IDS, track(created, view(positions, count, longest)));
      feed.put(DecoderBuilder.ATTENTION_MASK, track(created, view(mask, count, longest)));
      OnnxTensor empty =
          track(
              created, OrtCalls.emptyFloats(environment, count, spec.heads(), 0, spec.headWidth()));
      for (int i = 0; i < spec.layers(); i++) {
        feed.put(DecoderBuilder.pastKey(i), empty);
        feed.put(DecoderBuilder.pastValue(i), empty);
      }
      Map<String, OnnxTensor> outputs = new HashMap<>();
      outputs.put(
          DecoderBuilder.LOGITS,
          track(created, OrtCalls.view(environment, logits, count, longest, vocab)));
      for (int k = 0; k < cacheTensors; k++) {
        outputs.put(presentName(k), track(created, cacheView(prefill[k], count, longest)));
      }
      raw.run(feed, Set.of(), outputs).close();
    } catch (OrtException e) {
      throw OrtCalls.wrap(e, "prefill " + count + " rows on model '" + modelName() + "'");
    } finally {
      OrtCalls.closeAll(created);
    }
    admissions++;
    for (int r = 0; r < count; r++) {
      draw(fresh.get(r), logits, (r * longest + longest - 1) * vocab);
    }
    List<Finished<T>> finished = new ArrayList<>();
    List<Row<T>> surviving = new ArrayList<>(count);
    for (Row<T> row : fresh) {
      if (row.alive) {
        surviving.add(row);
      } else {
        finished.add(row.finish());
      }
    }
    if (surviving.isEmpty()) {
      return finished;
    }
    if (adopt && surviving.size() == count) {
      current = prefill;
      rows.addAll(fresh);
      length = longest;
      live = count;
    } else if (!adopt && !fitsFreeSlots(surviving)) {
      relayout(fresh, prefill, longest);
    } else if (!adopt) {
      reuseSlots(fresh, prefill, longest);
    } else {
      relayout(fresh, prefill, longest);
    }
    return finished;
  }

  /**
   * Runs one decode step: feeds every live row's last drawn token and draws its next one.
   *
   * @return the rows that stopped at this step (EOS or their token limit), in batch order
   * @throws BackendException when ONNX Runtime fails or returns non-finite logits; the batch is
   *     then unusable: take its rows back with {@link #clear()}
   */
  public List<Finished<T>> step() {
    if (live == 0) {
      return List.of();
    }
    if (length + 1 > spec.contextLength()) {
      relayout(List.of(), null, 0);
    }
    int batch = rows.size();
    int total = length + 1;
    for (int b = 0; b < batch; b++) {
      Row<T> row = rows.get(b);
      stepIds.put(b, row.alive ? row.pending : row.config.padTokenId());
      stepPositions.put(b, row.alive ? row.nextPosition : 0);
      int base = b * total;
      for (int c = 0; c < length; c++) {
        stepMask.put(base + c, c >= row.start && c < row.end ? 1L : 0L);
      }
      stepMask.put(base + length, row.alive ? 1L : 0L);
    }
    long needed = (long) batch * spec.heads() * total * spec.headWidth();
    if (spare == null || spare[0].capacity() < needed) {
      spare = allocate(Math.max(needed, capacityFor(batch, length, rows)));
    }
    List<OnnxTensor> created = new ArrayList<>();
    try {
      Map<String, OnnxTensorLike> feed = new HashMap<>();
      feed.put(DecoderBuilder.INPUT_IDS, track(created, view(stepIds, batch, 1)));
      feed.put(DecoderBuilder.POSITION_IDS, track(created, view(stepPositions, batch, 1)));
      feed.put(DecoderBuilder.ATTENTION_MASK, track(created, view(stepMask, batch, total)));
      Map<String, OnnxTensor> outputs = new HashMap<>();
      outputs.put(
          DecoderBuilder.LOGITS,
          track(created, OrtCalls.view(environment, stepLogits, batch, 1, vocab)));
      for (int k = 0; k < cacheTensors; k++) {
        feed.put(pastName(k), track(created, cacheView(current[k], batch, length)));
        outputs.put(presentName(k), track(created, cacheView(spare[k], batch, total)));
      }
      raw.run(feed, Set.of(), outputs).close();
    } catch (OrtException e) {
      throw OrtCalls.wrap(
          e, "run an in-flight decode step of " + batch + " rows on model '" + modelName() + "'");
    } finally {
      OrtCalls.closeAll(created);
    }
    FloatBuffer[] written = spare;
    spare = current;
    current = written;
    length = total;
    steps++;
    List<Finished<T>> finished = new ArrayList<>();
    for (int b = 0; b < batch; b++) {
      Row<T> row = rows.get(b);
      if (!row.alive) {
        continue;
      }
      row.nextPosition++;
      row.end = total;
      draw(row, stepLogits, b * vocab);
      if (!row.alive) {
        live--;
        finished.add(row.finish());
      }
    }
    if (live == 0) {
      reset();
    } else if (2 * (batch - live) >= batch) {
      relayout(List.of(), null, 0);
    }
    return finished;
  }

  /**
   * Stops the live rows whose tag matches (for example cancelled requests); they are not returned
   * as finished.
   *
   * @param dropped which tags to drop
   * @return the tags dropped
   */
  public List<T> remove(Predicate<? super T> dropped) {
    Objects.requireNonNull(dropped, "dropped");
    List<T> out = new ArrayList<>();
    for (Row<T> row : rows) {
      if (row.alive && dropped.test(row.join.tag())) {
        row.alive = false;
        live--;
        out.add(row.join.tag());
      }
    }
    if (live == 0) {
      reset();
    }
    return out;
  }

  /**
   * Drops every row and the cache, as after a failed {@link #step}.
   *
   * @return the tags of the rows that were live
   */
  public List<T> clear() {
    List<T> out = new ArrayList<>();
    for (Row<T> row : rows) {
      if (row.alive) {
        out.add(row.join.tag());
      }
    }
    reset();
    return out;
  }

  /** Releases the cache; live rows are dropped (see {@link #clear()}). */
  @Override
  public void close() {
    reset();
  }

  /** Returns the model, the batch limit and the live rows. */
  @Override
  public String toString() {
    return "InflightDecoder '"
        + modelName()
        + "' maxRows="
        + maxRows
        + " live="
        + live
        + " cacheLength="
        + length;
  }

  /** Forgets the rows and lets the cache buffers go (the garbage collector frees them). */
  private void reset() {
    rows.clear();
    current = null;
    spare = null;
    live = 0;
    length = 0;
  }

  /** Draws a row's next token; marks it stopped on EOS or at its limit. */
  private void draw(Row<T> row, FloatBuffer logits, int offset) {
    TokenSampler token = tokenSamplers.computeIfAbsent(row.config, c -> new TokenSampler(c, vocab));
    if (!token.draw(logits, offset, row.random)) {
      throw new BackendException(
          BackendException.Code.INTERNAL,
          "Expected finite logits from model '"
              + modelName()
              + "', found NaN or infinity at completion position "
              + row.count
              + " of prompt '"
              + row.join.prompt().id()
              + "'",
          null);
    }
    int k = row.count++;
    row.tokens[k] = token.token;
    row.samplingLogProbs[k] = token.samplingLogProb;
    row.modelLogProbs[k] = token.modelLogProb;
    if (row.config.isEos(token.token)) {
      row.alive = false;
      row.reason = StopReason.EOS;
    } else if (row.count == row.config.maxNewTokens()) {
      row.alive = false;
      row.reason = StopReason.LENGTH;
    } else {
      row.pending = token.token;
    }
  }

  /** Whether the live rows of {@code fresh} fit the stopped rows' slots without a new layout. */
  private boolean fitsFreeSlots(List<Row<T>> surviving) {
    int free = rows.size() - live;
    if (surviving.size() > free) {
      return false;
    }
    for (Row<T> row : surviving) {
      if (row.promptTokens.length > length) {
        return false;
      }
    }
    return true;
  }

  /**
   * Writes the live rows of {@code fresh} (prefilled in {@code prefill}, of length {@code
   * prefillLength}) into the slots of stopped rows, in place.
   */
  private void reuseSlots(List<Row<T>> fresh, FloatBuffer[] prefill, int prefillLength) {
    int heads = spec.heads();
    int width = spec.headWidth();
    int slot = 0;
    for (int r = 0; r < fresh.size(); r++) {
      Row<T> row = fresh.get(r);
      if (!row.alive) {
        continue;
      }
      while (rows.get(slot).alive) {
        slot++;
      }
      int tokens = row.promptTokens.length;
      for (int k = 0; k < cacheTensors; k++) {
        for (int h = 0; h < heads; h++) {
          int src = ((r * heads + h) * prefillLength + prefillLength - tokens) * width;
          int dst = ((slot * heads + h) * length + length - tokens) * width;
          current[k].put(dst, prefill[k], src, tokens * width);
        }
      }
      row.start = length - tokens;
      row.end = length;
      rows.set(slot, row);
      live++;
      reuses++;
    }
  }

  /**
   * Copies the live rows of the running batch and the live rows of {@code fresh} (prefilled in
   * {@code prefill}, of length {@code prefillLength}) into a new layout that holds nothing else.
   */
  private void relayout(List<Row<T>> fresh, FloatBuffer[] prefill, int prefillLength) {
    int target = 0;
    List<Row<T>> kept = new ArrayList<>();
    List<Integer> sources = new ArrayList<>();
    for (int b = 0; b < rows.size(); b++) {
      Row<T> row = rows.get(b);
      if (row.alive) {
        kept.add(row);
        sources.add(b);
        target = Math.max(target, length - row.start);
      }
    }
    int old = kept.size();
    for (int r = 0; r < fresh.size(); r++) {
      Row<T> row = fresh.get(r);
      if (row.alive) {
        kept.add(row);
        sources.add(r);
        target = Math.max(target, prefillLength - row.start);
      }
    }
    int heads = spec.heads();
    int width = spec.headWidth();
    int batch = kept.size();
    long needed = (long) batch * heads * target * width;
    FloatBuffer[] into =
        spare != null && spare[0].capacity() >= needed
            ? spare
            : allocate(Math.max(needed, capacityFor(batch, target, kept)));
    for (int k = 0; k < cacheTensors; k++) {
      for (int d = 0; d < batch; d++) {
        boolean isOld = d < old;
        FloatBuffer source = isOld ? current[k] : prefill[k];
        int sourceLength = isOld ? length : prefillLength;
        int sourceRow = sources.get(d);
        int from = Math.max(0, sourceLength - target);
        int shift = target - sourceLength;
        int span = (sourceLength - from) * width;
        for (int h = 0; h < heads; h++) {
          int src = ((sourceRow * heads + h) * sourceLength + from) * width;
          int dst = ((d * heads + h) * target + from + shift) * width;
          into[k].put(dst, source, src, span);
        }
      }
    }
    for (int d = 0; d < batch; d++) {
      Row<T> row = kept.get(d);
      int sourceLength = d < old ? length : prefillLength;
      row.start += target - sourceLength;
      row.end = target;
    }
    spare = current;
    current = into;
    rows.clear();
    rows.addAll(kept);
    live = batch;
    length = target;
    copies++;
  }

  /**
   * The cache floats per tensor that {@code batch} rows need until the longest remaining generation
   * among {@code members} ends, from a cache of length {@code from}: so that buffers rarely grow
   * step by step.
   */
  private long capacityFor(int batch, int from, List<Row<T>> members) {
    int remaining = 0;
    for (Row<T> row : members) {
      remaining = Math.max(remaining, row.config.maxNewTokens() - row.count);
    }
    long columns = Math.min(spec.contextLength(), (long) from + remaining + 1);
    return (long) batch * spec.heads() * columns * spec.headWidth();
  }

  /** One direct buffer of {@code floats} floats per cache tensor. */
  private FloatBuffer[] allocate(long floats) {
    FloatBuffer[] out = new FloatBuffer[cacheTensors];
    for (int k = 0; k < cacheTensors; k++) {
      out[k] = OrtCalls.floats(floats, "the in-flight cache");
    }
    return out;
  }

  /** A {@code [batch, heads, columns, headWidth]} tensor over the start of {@code buffer}. */
  private OnnxTensor cacheView(FloatBuffer buffer, int batch, int columns) throws OrtException {
    return OrtCalls.view(environment, buffer, batch, spec.heads(), columns, spec.headWidth());
  }

  /** Cache tensor {@code k}: layer {@code k / 2}, the key for even {@code k}, else the value. */
  private static String pastName(int k) {
    return k % 2 == 0 ? DecoderBuilder.pastKey(k / 2) : DecoderBuilder.pastValue(k / 2);
  }

  private static String presentName(int k) {
    return k % 2 == 0 ? DecoderBuilder.presentKey(k / 2) : DecoderBuilder.presentValue(k / 2);
  }

  private OnnxTensor view(LongBuffer buffer, long... shape) throws OrtException {
    return OrtCalls.view(environment, buffer, shape);
  }

  private String modelName() {
    return sampler.session().modelName();
  }

  private static OnnxTensor track(List<OnnxTensor> created, OnnxTensor tensor) {
    created.add(tensor);
    return tensor;
  }

  /** One sequence's state. */
  private static final class Row<T> {
    final Join<T> join;
    final SamplingConfig config;
    final int[] promptTokens;
    final SplittableRandom random;
    final int[] tokens;
    final double[] samplingLogProbs;
    final double[] modelLogProbs;
    int count;
    int pending;
    int nextPosition;
    int start;
    int end;
    boolean alive = true;
    StopReason reason;

    Row(Join<T> join) {
      this.join = join;
      this.config = join.config();
      this.promptTokens = join.prompt().tokens().toArray();
      this.random = new SplittableRandom(join.seed());
      int max = config.maxNewTokens();
      this.tokens = new int[max];
      this.samplingLogProbs = new double[max];
      this.modelLogProbs = new double[max];
    }

    Finished<T> finish() {
      return new Finished<>(
          join.tag(),
          new SampledSequence(
              join.prompt(),
              0,
              TokenSequence.of(Arrays.copyOf(tokens, count)),
              LogProbs.of(Arrays.copyOf(samplingLogProbs, count)),
              LogProbs.of(Arrays.copyOf(modelLogProbs, count)),
              reason));
    }
  }
}
