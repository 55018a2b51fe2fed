package dev.jbond.models.generate;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.jbond.BackendException;
import dev.jbond.Prompt;
import dev.jbond.VerificationException;
import dev.jbond.internal.Checks;
import dev.jbond.models.decoder.DecoderBuilder;
import dev.jbond.onnx.ort.OrtEnvironments;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
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
 * masked. A step feeds one token per row, the cache grows by one column ({@code present.*} become
 * the next call's past without a copy into Java, as in {@link KvCacheSampler}). Admitting rows
 * prefills them in one call of their own (left-padded, empty past), draws their first tokens, and
 * merges their caches with the running batch's: both are copied into new cache tensors of length
 * {@code T' = max(longest live row, longest new prompt)}, which also drops stopped rows and trims
 * columns no live row uses. When nothing is running and every new row survives its first token, the
 * prefill's own outputs become the cache (no copy): a burst of rows that arrives together decodes
 * exactly as one {@link KvCacheSampler} batch. Stopped rows otherwise stay in the batch, masked,
 * until half the batch has stopped or the cache would outgrow the context length; then one copy
 * compacts it. (Having ONNX Runtime write {@code present.*} into buffers of our own, pinned
 * outputs, would let new rows take stopped rows' slots in place, but made every step 10-30% slower
 * when measured; merging by copy when rows join is cheaper overall.)
 *
 * <p>Rows admitted together are prefilled in parts when their logits ({@code rows x longest prompt
 * x vocabulary} floats) would exceed the sampler's budget (see {@link KvCacheSampler}).
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
  private final Set<String> presentNames;
  private final int maxRows;
  private final int vocab;
  private final Map<SamplingConfig, TokenSampler> tokenSamplers = new HashMap<>();
  private final List<Row<T>> rows = new ArrayList<>();
  private final LongBuffer stepIds;
  private final LongBuffer stepPositions;
  private final LongBuffer stepMask;
  private final FloatBuffer stepLogits;
  private Map<String, OnnxTensorLike> extraInputs = Map.of();
  private Cache cache;
  private int length;
  private int live;
  private long steps;
  private long admissions;
  private long copies;

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
    this.presentNames = sampler.presentNames();
    this.vocab = spec.vocabSize();
    this.stepIds = OrtCalls.longs(maxRows, "the step input ids");
    this.stepPositions = OrtCalls.longs(maxRows, "the step position ids");
    this.stepMask =
        OrtCalls.longs((long) maxRows * spec.contextLength(), "the step attention mask");
    this.stepLogits = OrtCalls.floats((long) maxRows * vocab, "the step logits");
  }

  /**
   * Sets further inputs that every following prefill and step feeds, for graphs with inputs beyond
   * the decode contract (for example the adapters of the rows' LoRA task); the caller owns the
   * tensors and keeps them open while they are set. Set them while the decoder is idle: rows
   * already admitted were prefilled with the previous ones.
   *
   * @param inputs the inputs by name; empty for none
   */
  public void setExtraInputs(Map<String, ? extends OnnxTensorLike> inputs) {
    this.extraInputs = Map.copyOf(inputs);
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
   * Returns how many times the cache was copied into new tensors (merges with a running batch and
   * compactions).
   *
   * @return the copy count
   */
  public long cacheCopyCount() {
    return copies;
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
    int chunk = OrtCalls.rowsWithin(joins.size(), (long) longest * vocab, sampler.logitsBudget());
    if (chunk < joins.size()) {
      // the prefill's logits of all rows would not fit the budget: admit them in parts
      List<Finished<T>> finished = new ArrayList<>();
      int from = 0;
      try {
        for (; from < joins.size(); from += chunk) {
          finished.addAll(admit(joins.subList(from, Math.min(joins.size(), from + chunk))));
        }
      } catch (RuntimeException e) {
        // all or nothing: take back the parts admitted before the failing one
        Set<T> admitted = Collections.newSetFromMap(new IdentityHashMap<>());
        joins.subList(0, from).forEach(j -> admitted.add(j.tag()));
        remove(admitted::contains);
        throw e;
      }
      return finished;
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
      int[] prompt = fresh.get(r).promptTokens;
      int pad = longest - prompt.length;
      for (int s = 0; s < longest; s++) {
        boolean real = s >= pad;
        ids.put(r * longest + s, real ? prompt[s - pad] : fresh.get(r).config.padTokenId());
        positions.put(r * longest + s, real ? s - pad : 0);
        mask.put(r * longest + s, real ? 1 : 0);
      }
      fresh.get(r).nextPosition = prompt.length;
      fresh.get(r).start = pad;
      fresh.get(r).end = longest;
    }
    OrtSession.Result prefill;
    List<OnnxTensor> created = new ArrayList<>();
    try {
      Map<String, OnnxTensorLike> feed = new HashMap<>();
      feed.put(DecoderBuilder.INPUT_IDS, OrtCalls.track(created, view(ids, count, longest)));
      feed.put(
          DecoderBuilder.POSITION_IDS, OrtCalls.track(created, view(positions, count, longest)));
      feed.put(DecoderBuilder.ATTENTION_MASK, OrtCalls.track(created, view(mask, count, longest)));
      feed.putAll(extraInputs);
      OnnxTensor empty =
          OrtCalls.track(
              created, OrtCalls.emptyFloats(environment, count, spec.heads(), 0, spec.headWidth()));
      for (int i = 0; i < spec.layers(); i++) {
        feed.put(DecoderBuilder.pastKey(i), empty);
        feed.put(DecoderBuilder.pastValue(i), empty);
      }
      OnnxTensor pinned =
          OrtCalls.track(created, OrtCalls.view(environment, logits, count, longest, vocab));
      prefill = raw.run(feed, presentNames, Map.of(DecoderBuilder.LOGITS, pinned));
    } catch (OrtException e) {
      throw OrtCalls.wrap(e, "prefill " + count + " rows on model '" + modelName() + "'");
    } finally {
      OrtCalls.closeAll(created);
    }
    admissions++;
    List<Finished<T>> finished = new ArrayList<>();
    try {
      for (int r = 0; r < count; r++) {
        Row<T> row = fresh.get(r);
        draw(row, logits, (r * longest + longest - 1) * vocab);
      }
    } catch (RuntimeException e) {
      prefill.close();
      throw e;
    }
    int surviving = 0;
    for (Row<T> row : fresh) {
      if (row.alive) {
        surviving++;
      } else {
        finished.add(row.finish());
      }
    }
    if (surviving == 0) {
      prefill.close();
    } else if (rows.isEmpty() && surviving == count) {
      cache = new Cache(prefill);
      rows.addAll(fresh);
      length = longest;
      live = count;
    } else {
      try {
        rebuild(fresh, new Cache(prefill), longest);
      } finally {
        prefill.close();
      }
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
      rebuild(List.of(), null, 0);
    }
    int batch = rows.size();
    int total = length + 1;
    for (int b = 0; b < batch; b++) {
      Row<T> row = rows.get(b);
      stepIds.put(b, row.alive ? row.draws.last() : row.config.padTokenId());
      stepPositions.put(b, row.alive ? row.nextPosition : 0);
      int base = b * total;
      for (int c = 0; c < length; c++) {
        stepMask.put(base + c, c >= row.start && c < row.end ? 1L : 0L);
      }
      stepMask.put(base + length, row.alive ? 1L : 0L);
    }
    OrtSession.Result next;
    List<OnnxTensor> created = new ArrayList<>();
    try {
      Map<String, OnnxTensorLike> feed = new HashMap<>();
      feed.put(DecoderBuilder.INPUT_IDS, OrtCalls.track(created, view(stepIds, batch, 1)));
      feed.put(DecoderBuilder.POSITION_IDS, OrtCalls.track(created, view(stepPositions, batch, 1)));
      feed.put(
          DecoderBuilder.ATTENTION_MASK, OrtCalls.track(created, view(stepMask, batch, total)));
      cache.feed(feed);
      feed.putAll(extraInputs);
      OnnxTensor pinned =
          OrtCalls.track(created, OrtCalls.view(environment, stepLogits, batch, 1, vocab));
      next = raw.run(feed, presentNames, Map.of(DecoderBuilder.LOGITS, pinned));
    } catch (OrtException e) {
      throw OrtCalls.wrap(
          e, "run an in-flight decode step of " + batch + " rows on model '" + modelName() + "'");
    } finally {
      OrtCalls.closeAll(created);
    }
    cache.close();
    cache = new Cache(next);
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
      rebuild(List.of(), null, 0);
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

  private void reset() {
    if (cache != null) {
      cache.close();
      cache = null;
    }
    rows.clear();
    live = 0;
    length = 0;
  }

  /** Draws a row's next token; marks it stopped on EOS or at its limit. */
  private void draw(Row<T> row, FloatBuffer logits, int offset) {
    TokenSampler sampler =
        tokenSamplers.computeIfAbsent(row.config, c -> new TokenSampler(c, vocab));
    row.draws.draw(sampler, logits, offset, modelName());
    row.alive = row.draws.active();
  }

  /**
   * Copies the live rows of the running batch and the live rows of {@code fresh} (whose cache is
   * {@code freshCache}, of length {@code freshLength}) into a new cache that holds nothing else.
   */
  private void rebuild(List<Row<T>> fresh, Cache freshCache, int freshLength) {
    List<Row<T>> kept = new ArrayList<>();
    List<Integer> sources = new ArrayList<>();
    int target = keepLive(rows, length, kept, sources);
    int old = kept.size();
    target = Math.max(target, keepLive(fresh, freshLength, kept, sources));
    int heads = spec.heads();
    int width = spec.headWidth();
    int batch = kept.size();
    Map<String, OnnxTensor> past = new HashMap<>();
    try {
      for (int i = 0; i < spec.layers(); i++) {
        for (boolean key : new boolean[] {true, false}) {
          String present = key ? DecoderBuilder.presentKey(i) : DecoderBuilder.presentValue(i);
          FloatBuffer oldData = old > 0 ? cache.floats(present) : null;
          FloatBuffer freshData = batch > old ? freshCache.floats(present) : null;
          FloatBuffer merged =
              OrtCalls.floats((long) batch * heads * target * width, "the merged cache");
          for (int d = 0; d < batch; d++) {
            boolean isOld = d < old;
            FloatBuffer source = isOld ? oldData : freshData;
            int sourceLength = isOld ? length : freshLength;
            int sourceRow = sources.get(d);
            int from = Math.max(0, sourceLength - target);
            int shift = target - sourceLength;
            int span = (sourceLength - from) * width;
            for (int h = 0; h < heads; h++) {
              int src = ((sourceRow * heads + h) * sourceLength + from) * width;
              int dst = ((d * heads + h) * target + from + shift) * width;
              merged.put(dst, source, src, span);
            }
          }
          String input = key ? DecoderBuilder.pastKey(i) : DecoderBuilder.pastValue(i);
          past.put(input, OrtCalls.view(environment, merged, batch, heads, target, width));
        }
      }
    } catch (OrtException e) {
      OrtCalls.closeAll(past.values());
      throw OrtCalls.wrap(e, "merge the in-flight cache of model '" + modelName() + "'");
    } catch (RuntimeException e) {
      OrtCalls.closeAll(past.values());
      throw e;
    }
    for (int d = 0; d < batch; d++) {
      Row<T> row = kept.get(d);
      int sourceLength = d < old ? length : freshLength;
      row.start += target - sourceLength;
      row.end = target;
    }
    if (cache != null) {
      cache.close();
    }
    cache = new Cache(past);
    rows.clear();
    rows.addAll(kept);
    live = batch;
    length = target;
    copies++;
  }

  /**
   * Appends the live rows of {@code from} (a cache of length {@code fromLength}) to {@code kept}
   * and their indexes to {@code sources}; returns the longest span among them.
   */
  private static <T> int keepLive(
      List<Row<T>> from, int fromLength, List<Row<T>> kept, List<Integer> sources) {
    int longest = 0;
    for (int i = 0; i < from.size(); i++) {
      Row<T> row = from.get(i);
      if (row.alive) {
        kept.add(row);
        sources.add(i);
        longest = Math.max(longest, fromLength - row.start);
      }
    }
    return longest;
  }

  private OnnxTensor view(LongBuffer buffer, long... shape) throws OrtException {
    return OrtCalls.view(environment, buffer, shape);
  }

  private String modelName() {
    return sampler.session().modelName();
  }

  /** A batch's cache: the {@code present.*} of the last call, or merged tensors of our own. */
  private final class Cache implements AutoCloseable {
    private final OrtSession.Result result;
    private final Map<String, OnnxTensor> past;

    Cache(OrtSession.Result result) {
      this.result = result;
      this.past = null;
    }

    Cache(Map<String, OnnxTensor> past) {
      this.result = null;
      this.past = past;
    }

    /** Puts the cache into a step's feed as its past. */
    void feed(Map<String, OnnxTensorLike> feed) {
      for (int i = 0; i < spec.layers(); i++) {
        feed.put(DecoderBuilder.pastKey(i), tensor(DecoderBuilder.presentKey(i)));
        feed.put(DecoderBuilder.pastValue(i), tensor(DecoderBuilder.presentValue(i)));
      }
    }

    /** A copy of one cache tensor's values, by its {@code present.*} name. */
    FloatBuffer floats(String present) {
      return tensor(present).getFloatBuffer();
    }

    private OnnxTensor tensor(String present) {
      if (past != null) {
        return past.get(pastName(present));
      }
      return (OnnxTensor)
          result
              .get(present)
              .orElseThrow(
                  () ->
                      new VerificationException(
                          "Expected output '"
                              + present
                              + "' from model '"
                              + modelName()
                              + "', found none"));
    }

    @Override
    public void close() {
      if (result != null) {
        result.close();
      } else {
        OrtCalls.closeAll(past.values());
      }
    }
  }

  /** The past input that a {@code present.*} output feeds. */
  private String pastName(String present) {
    for (int i = 0; i < spec.layers(); i++) {
      if (present.equals(DecoderBuilder.presentKey(i))) {
        return DecoderBuilder.pastKey(i);
      }
      if (present.equals(DecoderBuilder.presentValue(i))) {
        return DecoderBuilder.pastValue(i);
      }
    }
    throw new IllegalArgumentException("Expected a present.* cache name, found " + present);
  }

  /** One sequence's state: its draws and its place in the cache. */
  private static final class Row<T> {
    final Join<T> join;
    final SamplingConfig config;
    final int[] promptTokens;
    final SequenceDraws draws;
    int nextPosition;
    int start;
    int end;

    /** False once it stopped or was removed. */
    boolean alive = true;

    Row(Join<T> join) {
      this.join = join;
      this.config = join.config();
      this.promptTokens = join.prompt().tokens().toArray();
      this.draws = new SequenceDraws(join.prompt(), 0, config, new SplittableRandom(join.seed()));
    }

    Finished<T> finish() {
      return new Finished<>(join.tag(), draws.toSequence());
    }
  }
}
