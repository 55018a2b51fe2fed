package dev.jbond.models.tokenizer;

import dev.jbond.internal.Checks;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Learns a byte-level BPE vocabulary from text (Sennrich et al., "Neural Machine Translation of
 * Rare Words with Subword Units", ACL 2016; byte-level as in GPT-2, Radford et al. 2019).
 *
 * <p>Algorithm. The text is split into words as {@link HuggingFaceTokenizer}'s {@code ByteLevel}
 * pre-tokenizer splits it (GPT-2 pattern, optional prefix space), and {@code c(w)} counts each word
 * {@code w}. The vocabulary starts with the 256 byte tokens, id {@code b} for byte {@code b}, and
 * every word is the sequence of its bytes. Then, up to {@link #merges()} times: for each adjacent
 * pair {@code (x, y)}, {@code f(x, y) = sum over words w of c(w) * (occurrences of (x, y) in w)};
 * the pair with the largest {@code f} wins, ties going to the smallest {@code (id(x), id(y))};
 * training stops early when the largest {@code f} is below {@link #minFrequency()}. The winner is
 * recorded as the next merge, {@code x + y} joins the vocabulary (a string already there keeps its
 * id), and every word replaces its occurrences of {@code (x, y)}, left to right, by {@code x + y}.
 * The special tokens come last. The result depends only on the settings and on the multiset of
 * words, so training is deterministic.
 *
 * @param merges the most merge rules to learn, {@code >= 0}
 * @param minFrequency the smallest pair count that is still merged, {@code >= 1}
 * @param specialTokens the special tokens to append, for example {@code <eos>}
 * @param addPrefixSpace the {@code ByteLevel} pre-tokenizer's {@code add_prefix_space}
 */
public record BytePairTrainer(
    int merges, int minFrequency, List<String> specialTokens, boolean addPrefixSpace) {
  /**
   * The special tokens of {@link #withMerges}: EOS, padding and BOS, as in {@link ByteTokenizer}.
   */
  public static final List<String> DEFAULT_SPECIAL_TOKENS = List.of("<eos>", "<pad>", "<bos>");

  /**
   * Validates the components.
   *
   * @param merges see the record description
   * @param minFrequency see the record description
   * @param specialTokens see the record description
   * @param addPrefixSpace see the record description
   * @throws IllegalArgumentException when {@code merges < 0} or {@code minFrequency < 1}
   */
  public BytePairTrainer {
    Checks.checkAtLeast(merges, 0, "merges");
    Checks.checkAtLeast(minFrequency, 1, "minimum pair frequency");
    specialTokens = List.copyOf(specialTokens);
  }

  /**
   * Returns a trainer for {@code merges} merges with the defaults: minimum pair frequency 2 (a pair
   * seen once is not worth a token), special tokens {@link #DEFAULT_SPECIAL_TOKENS}, no prefix
   * space (GPT-2's setting).
   *
   * @param merges the most merge rules to learn, {@code >= 0}
   * @return the trainer
   * @throws IllegalArgumentException when {@code merges < 0}
   */
  public static BytePairTrainer withMerges(int merges) {
    return new BytePairTrainer(merges, 2, DEFAULT_SPECIAL_TOKENS, false);
  }

  /**
   * Learns a vocabulary from {@code texts}.
   *
   * @param texts the training texts, each well-formed UTF-16
   * @return the vocabulary: 256 byte tokens, then one token per new merge string, then the special
   *     tokens
   * @throws IllegalArgumentException when a text holds an unpaired surrogate, or a special token
   *     equals a learned token
   */
  public BytePairVocabulary train(Iterable<String> texts) {
    Objects.requireNonNull(texts, "texts");
    PreTokenizer preTokenizer = PreTokenizer.gpt2(addPrefixSpace);
    Map<String, Long> counts = new TreeMap<>();
    for (String text : texts) {
      if (!text.isEmpty()) {
        for (String word : preTokenizer.words(text)) {
          counts.merge(word, 1L, Long::sum);
        }
      }
    }
    List<int[]> words = new ArrayList<>(counts.size());
    long[] wordCounts = new long[counts.size()];
    int w = 0;
    for (Map.Entry<String, Long> entry : counts.entrySet()) {
      String word = entry.getKey();
      int[] symbols = new int[word.length()];
      for (int i = 0; i < symbols.length; i++) {
        symbols[i] = ByteLevelAlphabet.byteOf(word.charAt(i));
      }
      words.add(symbols);
      wordCounts[w++] = entry.getValue();
    }

    List<String> tokens = new ArrayList<>();
    Map<String, Integer> ids = new HashMap<>();
    for (int b = 0; b < 256; b++) {
      String token = String.valueOf(ByteLevelAlphabet.charOf(b));
      tokens.add(token);
      ids.put(token, b);
    }
    List<BytePairVocabulary.Merge> learned = new ArrayList<>();
    Map<Long, Long> pairCounts = new HashMap<>();
    while (learned.size() < merges) {
      pairCounts.clear();
      for (int i = 0; i < words.size(); i++) {
        int[] symbols = words.get(i);
        for (int k = 0; k + 1 < symbols.length; k++) {
          pairCounts.merge(((long) symbols[k] << 32) | symbols[k + 1], wordCounts[i], Long::sum);
        }
      }
      long bestPair = -1;
      long bestCount = 0;
      for (Map.Entry<Long, Long> entry : pairCounts.entrySet()) {
        long count = entry.getValue();
        long pair = entry.getKey();
        if (count > bestCount || (count == bestCount && pair < bestPair)) {
          bestCount = count;
          bestPair = pair;
        }
      }
      if (bestPair < 0 || bestCount < minFrequency) {
        break;
      }
      int left = (int) (bestPair >>> 32);
      int right = (int) bestPair;
      String joined = tokens.get(left) + tokens.get(right);
      Integer merged = ids.get(joined);
      if (merged == null) {
        merged = tokens.size();
        tokens.add(joined);
        ids.put(joined, merged);
      }
      learned.add(new BytePairVocabulary.Merge(tokens.get(left), tokens.get(right)));
      for (int i = 0; i < words.size(); i++) {
        words.set(i, replace(words.get(i), left, right, merged));
      }
    }
    return new BytePairVocabulary(tokens, learned, specialTokens, addPrefixSpace);
  }

  private static int[] replace(int[] symbols, int left, int right, int merged) {
    int n = 0;
    int[] out = null;
    for (int k = 0; k < symbols.length; k++) {
      if (k + 1 < symbols.length && symbols[k] == left && symbols[k + 1] == right) {
        if (out == null) {
          out = new int[symbols.length - 1];
          System.arraycopy(symbols, 0, out, 0, k);
          n = k;
        }
        out[n++] = merged;
        k++;
      } else if (out != null) {
        out[n++] = symbols[k];
      }
    }
    return out == null ? symbols : Arrays.copyOf(out, n);
  }
}
