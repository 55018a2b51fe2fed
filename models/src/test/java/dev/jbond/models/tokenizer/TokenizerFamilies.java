package dev.jbond.models.tokenizer;

import dev.jbond.internal.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The test tokenizers of the common {@code tokenizer.json} families, each with a small vocabulary
 * learned here from {@code training-text.txt} and {@link #EXTRA_TEXT} (texts written for these
 * tests), so that the files are our own data and every entry can be regenerated:
 *
 * <ul>
 *   <li>{@link Family#BYTE_LEVEL_BPE}: byte-level BPE as Qwen 2 writes it: NFC normalizer, a regex
 *       {@code Split} then {@code ByteLevel} pre-tokenizer, {@code ByteLevel} decoder, special
 *       added tokens {@code <|endoftext|>}, {@code <|im_start|>}, {@code <|im_end|>} and {@code
 *       <mask>} (which strips the white space on its left, as RoBERTa's does) and the non-special
 *       added tokens {@code <think>} and {@code </think>}.
 *   <li>{@link Family#METASPACE_BPE}: BPE over characters with byte fallback as Llama and Mistral
 *       write it: {@code <unk>}, {@code <s>}, {@code </s>}, the 256 tokens {@code <0x00>} to {@code
 *       <0xFF>}, a {@code Metaspace} pre-tokenizer (prepend scheme {@code first}, no split), the
 *       decoder sequence {@code Replace("▁", " ")}, {@code ByteFallback}, {@code Fuse}, {@code
 *       Strip} and a post-processor that puts {@code <s>} first.
 *   <li>{@link Family#METASPACE_BPE_NORMALIZER}: the same model in the older Llama 2 form, where
 *       the normalizer {@code Prepend("▁")} then {@code Replace(" ", "▁")} does what the {@code
 *       Metaspace} pre-tokenizer does.
 *   <li>{@link Family#UNIGRAM}: Unigram as T5 writes it: pieces with log-probability scores, {@code
 *       <pad>}, {@code </s>}, {@code <unk>} and three {@code <extra_id_N>} tokens, an NFKC
 *       normalizer that folds runs of spaces (in place of T5's precompiled SentencePiece map), a
 *       {@code WhitespaceSplit} then {@code Metaspace} pre-tokenizer, a {@code Metaspace} decoder
 *       and a post-processor that appends {@code </s>}.
 *   <li>{@link Family#WORDPIECE}: WordPiece as BERT writes it: {@code BertNormalizer} (lower case,
 *       accents stripped, CJK characters split), {@code BertPreTokenizer}, {@code ##} continuing
 *       subwords, {@code [UNK]}, {@code [PAD]}, {@code [MASK]} and a post-processor that writes
 *       {@code [CLS] $A [SEP]}.
 * </ul>
 *
 * <p>The reference encodings next to each file come from an independent implementation (see {@code
 * src/test/oracle/README.md}). To regenerate the tokenizer files after a deliberate change, run
 * {@link #main} from the {@code models} directory, for example {@code java -cp
 * target/classes:target/test-classes:<api jar> dev.jbond.models.tokenizer.TokenizerFamilies}, then
 * the oracle.
 */
final class TokenizerFamilies {
  /** The Metaspace replacement character (U+2581, "lower one eighth block"). */
  static final String METASPACE = "\u2581";

  /**
   * Text added to the training text so that the vocabularies also hold pieces of a few other
   * scripts; written for these tests.
   */
  static final String EXTRA_TEXT =
      """
      The tower's lamp turned all night; the keeper wrote it down.
      Der Leuchtturm steht am Ufer, und die Straße führt zum Hafen.
      Le phare éclaire la côte; les bateaux rentrent à l'aube, très tard.
      El faro ilumina el mar. La señora cuenta los barcos cada día.
      灯台の光は海を照らす。灯台守は船を数える。
      Маяк светит всю ночь, и смотритель считает корабли.
      Numbers again: 10, 20, 30, 100, 2024 and 3.5 metres of rope.
      """;

  /** The families, each written to {@code families/<directory>/tokenizer.json}. */
  enum Family {
    /** Byte-level BPE (GPT-2, Qwen). */
    BYTE_LEVEL_BPE("byte-level-bpe"),
    /** BPE with a Metaspace pre-tokenizer and byte fallback (Llama 3-era conversions, Mistral). */
    METASPACE_BPE("metaspace-bpe"),
    /** The same BPE with the normalizer form of Llama 2's file. */
    METASPACE_BPE_NORMALIZER("metaspace-bpe-normalizer"),
    /** Unigram (T5). */
    UNIGRAM("unigram"),
    /** WordPiece (BERT). */
    WORDPIECE("wordpiece");

    private final String directory;

    Family(String directory) {
      this.directory = directory;
    }

    /** Returns the folder name under {@code families/}. */
    String directory() {
      return directory;
    }

    /** Returns the classpath resource of the tokenizer, relative to this package. */
    String tokenizerResource() {
      return "families/" + directory + "/tokenizer.json";
    }

    /** Returns the classpath resource of the reference encodings, relative to this package. */
    String referenceResource() {
      return "families/" + directory + "/reference-encodings.jsonl";
    }
  }

  private TokenizerFamilies() {}

  /** Returns the training corpus: the training text and {@link #EXTRA_TEXT}, as lines. */
  static List<String> corpus() {
    List<String> lines = new ArrayList<>();
    for (String line : (TokenizerFixtures.trainingText() + EXTRA_TEXT).split("\n")) {
      if (!line.isBlank()) {
        lines.add(line);
      }
    }
    return lines;
  }

  /**
   * Returns the {@code tokenizer.json} text of {@code family}.
   *
   * @param family the family
   * @return the JSON, ending with a line break
   */
  static String json(Family family) {
    Map<String, Object> root =
        switch (family) {
          case BYTE_LEVEL_BPE -> byteLevelBpe();
          case METASPACE_BPE -> metaspaceBpe(false);
          case METASPACE_BPE_NORMALIZER -> metaspaceBpe(true);
          case UNIGRAM -> unigram();
          case WORDPIECE -> wordPiece();
        };
    StringBuilder out = new StringBuilder();
    pretty(out, root, "");
    return out.append('\n').toString();
  }

  // ---- byte-level BPE (Qwen 2 style) ----

  /** The word pattern of Qwen 2's {@code Split} pre-tokenizer step. */
  static final String QWEN2_PATTERN =
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
          + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

  private static Map<String, Object> byteLevelBpe() {
    BytePairVocabulary learned = new BytePairTrainer(240, 2, List.of(), false).train(corpus());
    Map<String, Object> vocab = new LinkedHashMap<>();
    for (String token : learned.tokens()) {
      vocab.put(token, vocab.size());
    }
    List<Object> merges = new ArrayList<>();
    for (BytePairVocabulary.Merge merge : learned.merges()) {
      merges.add(List.of(merge.left(), merge.right()));
    }
    int next = vocab.size();
    List<Object> added =
        List.of(
            addedToken(next, "<|endoftext|>", true, false),
            addedToken(next + 1, "<|im_start|>", true, false),
            addedToken(next + 2, "<|im_end|>", true, false),
            addedToken(next + 3, "<mask>", true, true),
            addedToken(next + 4, "<think>", false, false),
            addedToken(next + 5, "</think>", false, false));

    Map<String, Object> root = header(added);
    root.put("normalizer", Map.of("type", "NFC"));
    root.put(
        "pre_tokenizer",
        object(
            "type",
            "Sequence",
            "pretokenizers",
            List.of(
                object(
                    "type",
                    "Split",
                    "pattern",
                    Map.of("Regex", QWEN2_PATTERN),
                    "behavior",
                    "Isolated",
                    "invert",
                    false),
                byteLevel(false))));
    root.put("post_processor", byteLevel(false));
    root.put("decoder", byteLevel(false));
    Map<String, Object> model = new LinkedHashMap<>();
    model.put("type", "BPE");
    model.put("dropout", null);
    model.put("unk_token", null);
    model.put("continuing_subword_prefix", "");
    model.put("end_of_word_suffix", "");
    model.put("fuse_unk", false);
    model.put("byte_fallback", false);
    model.put("ignore_merges", false);
    model.put("vocab", vocab);
    model.put("merges", merges);
    root.put("model", model);
    return root;
  }

  private static Map<String, Object> byteLevel(boolean trimOffsets) {
    return object(
        "type",
        "ByteLevel",
        "add_prefix_space",
        false,
        "trim_offsets",
        trimOffsets,
        "use_regex",
        false);
  }

  // ---- BPE with Metaspace and byte fallback (Llama, Mistral) ----

  private static Map<String, Object> metaspaceBpe(boolean normalizerForm) {
    Map<String, Long> words = new TreeMap<>();
    for (String line : corpus()) {
      for (String word : line.trim().split(" +")) {
        words.merge(METASPACE + word, 1L, Long::sum);
      }
    }
    Map<String, Long> characters = characterCounts(words);
    List<String> alphabet = new ArrayList<>();
    characters.forEach(
        (c, count) -> {
          if (count >= 3) {
            alphabet.add(c);
          }
        });
    List<List<String>> merges = characterBpe(words, alphabet, 260);

    Map<String, Object> vocab = new LinkedHashMap<>();
    vocab.put("<unk>", 0);
    vocab.put("<s>", 1);
    vocab.put("</s>", 2);
    for (int b = 0; b < 256; b++) {
      vocab.put(String.format(Locale.ROOT, "<0x%02X>", b), vocab.size());
    }
    for (String c : alphabet) {
      vocab.put(c, vocab.size());
    }
    List<Object> mergeList = new ArrayList<>();
    for (List<String> merge : merges) {
      vocab.putIfAbsent(merge.get(0) + merge.get(1), vocab.size());
      mergeList.add(merge);
    }
    List<Object> added =
        List.of(
            addedToken(0, "<unk>", true, false),
            addedToken(1, "<s>", true, false),
            addedToken(2, "</s>", true, false));

    Map<String, Object> root = header(added);
    Map<String, Object> replaceSpace =
        object("type", "Replace", "pattern", Map.of("String", " "), "content", METASPACE);
    if (normalizerForm) {
      root.put(
          "normalizer",
          object(
              "type",
              "Sequence",
              "normalizers",
              List.of(object("type", "Prepend", "prepend", METASPACE), replaceSpace)));
      root.put("pre_tokenizer", null);
    } else {
      root.put("normalizer", null);
      root.put(
          "pre_tokenizer",
          object(
              "type",
              "Metaspace",
              "replacement",
              METASPACE,
              "prepend_scheme",
              "first",
              "split",
              false));
    }
    root.put(
        "post_processor",
        object(
            "type",
            "TemplateProcessing",
            "single",
            List.of(special("<s>", 0), sequence("A", 0)),
            "pair",
            List.of(special("<s>", 0), sequence("A", 0), special("<s>", 1), sequence("B", 1)),
            "special_tokens",
            Map.of("<s>", object("id", "<s>", "ids", List.of(1), "tokens", List.of("<s>")))));
    root.put(
        "decoder",
        object(
            "type",
            "Sequence",
            "decoders",
            List.of(
                object("type", "Replace", "pattern", Map.of("String", METASPACE), "content", " "),
                Map.of("type", "ByteFallback"),
                Map.of("type", "Fuse"),
                object("type", "Strip", "content", " ", "start", 1, "stop", 0))));
    Map<String, Object> model = new LinkedHashMap<>();
    model.put("type", "BPE");
    model.put("dropout", null);
    model.put("unk_token", "<unk>");
    model.put("continuing_subword_prefix", null);
    model.put("end_of_word_suffix", null);
    model.put("fuse_unk", true);
    model.put("byte_fallback", true);
    model.put("ignore_merges", false);
    model.put("vocab", vocab);
    model.put("merges", mergeList);
    root.put("model", model);
    return root;
  }

  /** Counts the code points of {@code words}, weighted by each word's count. */
  private static Map<String, Long> characterCounts(Map<String, Long> words) {
    Map<String, Long> counts = new TreeMap<>();
    words.forEach(
        (word, count) ->
            word.codePoints().forEach(c -> counts.merge(Character.toString(c), count, Long::sum)));
    return counts;
  }

  /**
   * Learns BPE merges over the code points of {@code words}: the most frequent adjacent pair of
   * known symbols first (ties to the smaller pair in string order), while it is seen at least
   * twice; symbols outside {@code alphabet} never merge.
   */
  private static List<List<String>> characterBpe(
      Map<String, Long> words, List<String> alphabet, int limit) {
    List<List<String>> symbols = new ArrayList<>();
    List<Long> counts = new ArrayList<>();
    words.forEach(
        (word, count) -> {
          List<String> split = new ArrayList<>();
          word.codePoints().forEach(c -> split.add(Character.toString(c)));
          symbols.add(split);
          counts.add(count);
        });
    TreeSet<String> known = new TreeSet<>(alphabet);
    List<List<String>> merges = new ArrayList<>();
    while (merges.size() < limit) {
      Map<List<String>, Long> pairs = new HashMap<>();
      for (int w = 0; w < symbols.size(); w++) {
        List<String> s = symbols.get(w);
        for (int i = 0; i + 1 < s.size(); i++) {
          if (known.contains(s.get(i)) && known.contains(s.get(i + 1))) {
            pairs.merge(List.of(s.get(i), s.get(i + 1)), counts.get(w), Long::sum);
          }
        }
      }
      List<String> best = null;
      long bestCount = 1;
      for (Map.Entry<List<String>, Long> e : pairs.entrySet()) {
        if (e.getValue() > bestCount
            || (e.getValue() == bestCount
                && best != null
                && PAIR_ORDER.compare(e.getKey(), best) < 0)) {
          best = e.getKey();
          bestCount = e.getValue();
        }
      }
      if (best == null) {
        break;
      }
      merges.add(best);
      String joined = best.get(0) + best.get(1);
      known.add(joined);
      for (List<String> s : symbols) {
        for (int i = 0; i + 1 < s.size(); i++) {
          if (s.get(i).equals(best.get(0)) && s.get(i + 1).equals(best.get(1))) {
            s.set(i, joined);
            s.remove(i + 1);
          }
        }
      }
    }
    return merges;
  }

  private static final Comparator<List<String>> PAIR_ORDER =
      Comparator.<List<String>, String>comparing(p -> p.get(0)).thenComparing(p -> p.get(1));

  // ---- Unigram (T5) ----

  private static Map<String, Object> unigram() {
    Map<String, Long> words = new TreeMap<>();
    for (String line : corpus()) {
      String normalized = Normalizer.normalize(line, Normalizer.Form.NFKC).trim();
      for (String word : normalized.split("\\s+")) {
        words.merge(METASPACE + word, 1L, Long::sum);
      }
    }
    // Every substring of up to 6 code points, counted over word occurrences.
    Map<String, Long> substrings = new TreeMap<>();
    words.forEach(
        (word, count) -> {
          int[] cps = word.codePoints().toArray();
          for (int i = 0; i < cps.length; i++) {
            for (int n = 1; n <= 6 && i + n <= cps.length; n++) {
              substrings.merge(new String(cps, i, n), count, Long::sum);
            }
          }
        });
    List<Map.Entry<String, Long>> single = new ArrayList<>();
    List<Map.Entry<String, Long>> longer = new ArrayList<>();
    for (Map.Entry<String, Long> e : substrings.entrySet()) {
      int length = e.getKey().codePointCount(0, e.getKey().length());
      if (length == 1 && e.getValue() >= 2) {
        single.add(e);
      } else if (length > 1 && e.getValue() >= 3) {
        longer.add(e);
      }
    }
    // The longer pieces worth most characters (count x length) first.
    longer.sort(
        Comparator.<Map.Entry<String, Long>>comparingLong(
                e -> -e.getValue() * e.getKey().codePointCount(0, e.getKey().length()))
            .thenComparing(Map.Entry::getKey));
    List<Map.Entry<String, Long>> pieces = new ArrayList<>(single);
    pieces.addAll(longer.subList(0, Math.min(260, longer.size())));
    long total = 0;
    for (Map.Entry<String, Long> e : pieces) {
      total += e.getValue();
    }
    pieces.sort(
        Comparator.<Map.Entry<String, Long>>comparingLong(e -> -e.getValue())
            .thenComparing(Map.Entry::getKey));

    List<Object> vocab = new ArrayList<>();
    vocab.add(List.of("<pad>", 0.0));
    vocab.add(List.of("</s>", 0.0));
    vocab.add(List.of("<unk>", 0.0));
    // Scores are log frequencies, each lowered by a millionth per rank so that no two are equal:
    // segmentations of equal total score would leave the result to each implementation's
    // tie-breaking.
    for (Map.Entry<String, Long> e : pieces) {
      vocab.add(List.of(e.getKey(), Math.log((double) e.getValue() / total) - 1e-6 * vocab.size()));
    }
    List<Object> added = new ArrayList<>();
    added.add(addedToken(0, "<pad>", true, false));
    added.add(addedToken(1, "</s>", true, false));
    added.add(addedToken(2, "<unk>", true, false));
    for (int i = 0; i < 3; i++) {
      String extra = "<extra_id_" + i + ">";
      added.add(addedToken(vocab.size(), extra, true, false));
      vocab.add(List.of(extra, 0.0));
    }

    Map<String, Object> root = header(added);
    root.put(
        "normalizer",
        object(
            "type",
            "Sequence",
            "normalizers",
            List.of(
                Map.of("type", "NFKC"),
                object("type", "Replace", "pattern", Map.of("Regex", " {2,}"), "content", " "))));
    Map<String, Object> metaspace =
        object(
            "type",
            "Metaspace",
            "replacement",
            METASPACE,
            "prepend_scheme",
            "always",
            "split",
            true);
    root.put(
        "pre_tokenizer",
        object(
            "type",
            "Sequence",
            "pretokenizers",
            List.of(Map.of("type", "WhitespaceSplit"), metaspace)));
    root.put(
        "post_processor",
        object(
            "type",
            "TemplateProcessing",
            "single",
            List.of(sequence("A", 0), special("</s>", 0)),
            "pair",
            List.of(sequence("A", 0), special("</s>", 0), sequence("B", 0), special("</s>", 0)),
            "special_tokens",
            Map.of("</s>", object("id", "</s>", "ids", List.of(1), "tokens", List.of("</s>")))));
    root.put("decoder", metaspace);
    Map<String, Object> model = new LinkedHashMap<>();
    model.put("type", "Unigram");
    model.put("unk_id", 2);
    model.put("vocab", vocab);
    model.put("byte_fallback", false);
    root.put("model", model);
    return root;
  }

  // ---- WordPiece (BERT) ----

  private static Map<String, Object> wordPiece() {
    Map<String, Long> words = new TreeMap<>();
    for (String line : corpus()) {
      for (String word : bertWords(line)) {
        words.merge(word, 1L, Long::sum);
      }
    }
    Map<String, Long> characters = characterCounts(words);
    Map<String, Long> prefixes = new TreeMap<>();
    Map<String, Long> suffixes = new TreeMap<>();
    words.forEach(
        (word, count) -> {
          int[] cps = word.codePoints().toArray();
          for (int n = 2; n <= 4 && n < cps.length; n++) {
            prefixes.merge(new String(cps, 0, n), count, Long::sum);
          }
          for (int i = 1; i < cps.length; i++) {
            for (int n = 2; n <= 4 && i + n <= cps.length; n++) {
              suffixes.merge("##" + new String(cps, i, n), count, Long::sum);
            }
          }
        });

    Map<String, Object> vocab = new LinkedHashMap<>();
    for (String special : List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")) {
      vocab.put(special, vocab.size());
    }
    characters.forEach(
        (c, count) -> {
          if (count >= 2) {
            vocab.put(c, vocab.size());
          }
        });
    characters.forEach(
        (c, count) -> {
          if (count >= 2) {
            vocab.put("##" + c, vocab.size());
          }
        });
    words.forEach(
        (word, count) -> {
          if (count >= 2 && word.codePointCount(0, word.length()) > 1) {
            vocab.putIfAbsent(word, vocab.size());
          }
        });
    for (Map<String, Long> pieces : List.of(prefixes, suffixes)) {
      pieces.forEach(
          (piece, count) -> {
            if (count >= 4) {
              vocab.putIfAbsent(piece, vocab.size());
            }
          });
    }
    List<Object> added = new ArrayList<>();
    for (String special : List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")) {
      added.add(addedToken((Integer) vocab.get(special), special, true, false));
    }

    Map<String, Object> root = header(added);
    root.put(
        "normalizer",
        object(
            "type",
            "BertNormalizer",
            "clean_text",
            true,
            "handle_chinese_chars",
            true,
            "strip_accents",
            null,
            "lowercase",
            true));
    root.put("pre_tokenizer", Map.of("type", "BertPreTokenizer"));
    root.put(
        "post_processor",
        object(
            "type",
            "TemplateProcessing",
            "single",
            List.of(special("[CLS]", 0), sequence("A", 0), special("[SEP]", 0)),
            "pair",
            List.of(
                special("[CLS]", 0),
                sequence("A", 0),
                special("[SEP]", 0),
                sequence("B", 1),
                special("[SEP]", 1)),
            "special_tokens",
            object(
                "[CLS]",
                object("id", "[CLS]", "ids", List.of(2), "tokens", List.of("[CLS]")),
                "[SEP]",
                object("id", "[SEP]", "ids", List.of(3), "tokens", List.of("[SEP]")))));
    root.put("decoder", object("type", "WordPiece", "prefix", "##", "cleanup", true));
    Map<String, Object> model = new LinkedHashMap<>();
    model.put("type", "WordPiece");
    model.put("unk_token", "[UNK]");
    model.put("continuing_subword_prefix", "##");
    model.put("max_input_chars_per_word", 100);
    model.put("vocab", vocab);
    root.put("model", model);
    return root;
  }

  /**
   * Splits a line as BERT's normalizer and pre-tokenizer do, closely enough to learn a vocabulary:
   * lower case, accents stripped, then runs of letters and digits and single other characters.
   */
  private static List<String> bertWords(String line) {
    String lower = Normalizer.normalize(line.toLowerCase(Locale.ROOT), Normalizer.Form.NFD);
    StringBuilder stripped = new StringBuilder();
    lower
        .codePoints()
        .filter(c -> Character.getType(c) != Character.NON_SPACING_MARK)
        .forEach(stripped::appendCodePoint);
    List<String> words = new ArrayList<>();
    StringBuilder word = new StringBuilder();
    stripped
        .codePoints()
        .forEach(
            c -> {
              boolean cjk = Character.UnicodeScript.of(c) == Character.UnicodeScript.HAN;
              if (Character.isLetterOrDigit(c) && !cjk) {
                word.appendCodePoint(c);
                return;
              }
              if (word.length() > 0) {
                words.add(word.toString());
                word.setLength(0);
              }
              if (!Character.isWhitespace(c)) {
                words.add(Character.toString(c));
              }
            });
    if (word.length() > 0) {
      words.add(word.toString());
    }
    return words;
  }

  // ---- JSON helpers ----

  private static Map<String, Object> header(List<Object> addedTokens) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("version", "1.0");
    root.put("truncation", null);
    root.put("padding", null);
    root.put("added_tokens", addedTokens);
    return root;
  }

  private static Map<String, Object> addedToken(
      int id, String content, boolean special, boolean leftStrip) {
    return object(
        "id",
        id,
        "content",
        content,
        "single_word",
        false,
        "lstrip",
        leftStrip,
        "rstrip",
        false,
        "normalized",
        false,
        "special",
        special);
  }

  private static Map<String, Object> special(String id, int typeId) {
    return Map.of("SpecialToken", object("id", id, "type_id", typeId));
  }

  private static Map<String, Object> sequence(String id, int typeId) {
    return Map.of("Sequence", object("id", id, "type_id", typeId));
  }

  /** Returns an insertion-ordered map of the given keys and values. */
  private static Map<String, Object> object(Object... keysAndValues) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < keysAndValues.length; i += 2) {
      map.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return map;
  }

  /**
   * Writes {@code value} as JSON with two-space indentation; a container whose one-line form fits
   * 120 characters stays on one line, so that vocabularies and merges have one entry per line.
   */
  private static void pretty(StringBuilder out, Object value, String indent) {
    String flat = Json.write(value);
    if (flat.length() + indent.length() <= 120
        || !(value instanceof Map || value instanceof List)) {
      out.append(flat);
      return;
    }
    String inner = indent + "  ";
    if (value instanceof Map<?, ?> map) {
      out.append('{');
      String separator = "\n";
      for (Map.Entry<?, ?> e : map.entrySet()) {
        out.append(separator).append(inner);
        Json.writeString(out, (String) e.getKey());
        out.append(": ");
        pretty(out, e.getValue(), inner);
        separator = ",\n";
      }
      out.append('\n').append(indent).append('}');
    } else {
      List<?> list = (List<?>) value;
      out.append('[');
      String separator = "\n";
      for (Object element : list) {
        out.append(separator).append(inner);
        pretty(out, element, inner);
        separator = ",\n";
      }
      out.append('\n').append(indent).append(']');
    }
  }

  /**
   * Writes the tokenizer of every family.
   *
   * @param args optionally the resource folder of this package; by default the committed one,
   *     relative to the {@code models} directory
   * @throws IOException when a file cannot be written
   */
  public static void main(String[] args) throws IOException {
    Path root =
        Path.of(args.length > 0 ? args[0] : "src/test/resources/dev/jbond/models/tokenizer");
    for (Family family : Family.values()) {
      Path file = root.resolve(family.tokenizerResource());
      Files.createDirectories(file.getParent());
      Files.writeString(file, json(family), StandardCharsets.UTF_8);
      System.out.println("Wrote " + file.toAbsolutePath());
    }
  }
}
