package dev.jbond.models.tokenizer;

import dev.jbond.internal.Checks;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The BPE model: turns one word (a string over the vocabulary's base symbols) into token ids.
 *
 * <p>Algorithm: the word starts as one symbol per character. While two adjacent symbols form a pair
 * that has a merge rule, the pair with the lowest rank (its position in the merge list) is merged,
 * the leftmost one among equal ranks; the merged symbol is the vocabulary token of the two strings
 * joined. This is the order of GPT-2's and Hugging Face's BPE. A priority queue over (rank,
 * position) keeps it {@code O(n log n)} for a word of {@code n} characters.
 *
 * <p>A character without a vocabulary entry becomes the unknown token when the model has one
 * (consecutive ones fused into one when {@code fuseUnknown}); without one, encoding fails. With
 * {@code ignoreMerges}, a word that is itself a vocabulary token is that token, merges unused.
 *
 * <p>Results are cached per word, at most {@link #CACHE_CAPACITY} words of at most {@link
 * #CACHED_WORD_LENGTH} characters; once full, the cache stops growing. Thread-safe.
 */
final class BytePairModel {
  /** The most words the cache holds. */
  static final int CACHE_CAPACITY = 10_000;

  /** The longest word that is cached. */
  static final int CACHED_WORD_LENGTH = 64;

  private final Map<String, Integer> vocab;
  private final Map<Long, Long> merges; // (left << 32 | right) -> (rank << 32 | merged id)
  private final int mergeCount;
  private final int unknownId;
  private final boolean fuseUnknown;
  private final boolean ignoreMerges;
  private final ConcurrentHashMap<String, int[]> cache = new ConcurrentHashMap<>();

  /**
   * Creates the model.
   *
   * @param vocab token string to id
   * @param merges the merge rules in rank order, each {@code {left, right}}; both and their join
   *     must be in {@code vocab} (checked by the caller)
   * @param unknownId the id of the unknown token, or -1 for none
   * @param fuseUnknown whether consecutive unknown characters become one unknown token
   * @param ignoreMerges whether a word that is a vocabulary token skips the merges
   */
  BytePairModel(
      Map<String, Integer> vocab,
      List<String[]> merges,
      int unknownId,
      boolean fuseUnknown,
      boolean ignoreMerges) {
    this.vocab = Map.copyOf(vocab);
    Map<Long, Long> rules = new HashMap<>(merges.size() * 2);
    for (int rank = 0; rank < merges.size(); rank++) {
      String[] pair = merges.get(rank);
      int left = this.vocab.get(pair[0]);
      int right = this.vocab.get(pair[1]);
      int merged = this.vocab.get(pair[0] + pair[1]);
      // A repeated rule keeps its first (lowest) rank.
      rules.putIfAbsent(pairKey(left, right), ((long) rank << 32) | merged);
    }
    this.merges = rules;
    this.mergeCount = merges.size();
    this.unknownId = unknownId;
    this.fuseUnknown = fuseUnknown;
    this.ignoreMerges = ignoreMerges;
  }

  private static long pairKey(int left, int right) {
    return ((long) left << 32) | (right & 0xffffffffL);
  }

  int mergeCount() {
    return mergeCount;
  }

  /**
   * Returns the ids of {@code word}.
   *
   * @param word a non-empty word over the base symbols
   * @return the ids; the array may be shared with the cache, so callers must not modify it
   * @throws IllegalArgumentException when a character has no token and there is no unknown token
   */
  int[] encode(String word) {
    int[] cached = cache.get(word);
    if (cached != null) {
      return cached;
    }
    int[] ids = merge(word);
    if (word.length() <= CACHED_WORD_LENGTH && cache.size() < CACHE_CAPACITY) {
      cache.putIfAbsent(word, ids);
    }
    return ids;
  }

  private int[] merge(String word) {
    if (ignoreMerges) {
      Integer whole = vocab.get(word);
      if (whole != null) {
        return new int[] {whole};
      }
    }
    int n = 0;
    int[] symbols = new int[word.length()];
    for (int i = 0; i < word.length(); ) {
      int cp = word.codePointAt(i);
      String ch = new String(Character.toChars(cp));
      Integer id = vocab.get(ch);
      if (id != null) {
        symbols[n++] = id;
      } else {
        Checks.checkArgument(
            unknownId >= 0,
            "Expected characters of the vocabulary, found U+%04X in word '%s' and no unknown"
                + " token",
            cp,
            word);
        if (!(fuseUnknown && n > 0 && symbols[n - 1] == unknownId)) {
          symbols[n++] = unknownId;
        }
      }
      i += Character.charCount(cp);
    }
    if (n < 2 || merges.isEmpty()) {
      return Arrays.copyOf(symbols, n);
    }
    int[] next = new int[n];
    int[] prev = new int[n];
    for (int i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1;
      prev[i] = i - 1;
    }
    // Entries: {rank, position, left id, right id, merged id}, smallest (rank, position) first.
    PriorityQueue<int[]> queue =
        new PriorityQueue<>(
            (a, b) -> a[0] != b[0] ? Integer.compare(a[0], b[0]) : Integer.compare(a[1], b[1]));
    for (int i = 0; i + 1 < n; i++) {
      offer(queue, symbols, i, i + 1);
    }
    int alive = n;
    while (!queue.isEmpty()) {
      int[] top = queue.poll();
      int pos = top[1];
      int right = next[pos];
      if (symbols[pos] != top[2] || right < 0 || symbols[right] != top[3]) {
        continue; // stale: one of the two symbols has changed since this entry was queued
      }
      symbols[pos] = top[4];
      symbols[right] = -1;
      next[pos] = next[right];
      if (next[right] >= 0) {
        prev[next[right]] = pos;
      }
      alive--;
      if (prev[pos] >= 0) {
        offer(queue, symbols, prev[pos], pos);
      }
      if (next[pos] >= 0) {
        offer(queue, symbols, pos, next[pos]);
      }
    }
    int[] ids = new int[alive];
    int k = 0;
    for (int i = 0; i >= 0; i = next[i]) {
      ids[k++] = symbols[i];
    }
    return ids;
  }

  private void offer(PriorityQueue<int[]> queue, int[] symbols, int left, int right) {
    Long rule = merges.get(pairKey(symbols[left], symbols[right]));
    if (rule != null) {
      queue.add(
          new int[] {(int) (rule >>> 32), left, symbols[left], symbols[right], (int) (long) rule});
    }
  }
}
