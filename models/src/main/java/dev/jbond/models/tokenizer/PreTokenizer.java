package dev.jbond.models.tokenizer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into words before BPE, as a Hugging Face byte-level pre-tokenizer does: zero or more
 * {@code Split} steps, then the {@code ByteLevel} step, which optionally prepends a space, splits
 * with the GPT-2 pattern and writes each word's UTF-8 bytes in the {@link ByteLevelAlphabet}.
 *
 * <p>Immutable and thread-safe.
 */
final class PreTokenizer {
  /**
   * The GPT-2 word pattern: the contractions {@code 's 't 're 've 'm 'll 'd}, an optional space and
   * letters, an optional space and digits, an optional space and other non-space characters,
   * whitespace not followed by a non-space, and any other whitespace. Unicode character classes
   * make {@code \s} match all Unicode white space, as the original pattern's regex engine does.
   */
  static final Pattern GPT2_PATTERN =
      Pattern.compile(
          "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
          Pattern.UNICODE_CHARACTER_CLASS);

  /** How a {@link Split} step treats the parts its pattern matches (Hugging Face's names). */
  enum Behavior {
    /** Matches are dropped. */
    REMOVED,
    /** Matches are words of their own. */
    ISOLATED,
    /** A match joins the word before it. */
    MERGED_WITH_PREVIOUS,
    /** A match joins the word after it. */
    MERGED_WITH_NEXT,
    /** Adjacent matches form one word. */
    CONTIGUOUS
  }

  /**
   * One {@code Split} step.
   *
   * @param pattern what to match
   * @param behavior what to do with the matches
   * @param invert true to treat the parts between matches as the matches
   */
  record Split(Pattern pattern, Behavior behavior, boolean invert) {
    Split {
      Objects.requireNonNull(pattern, "pattern");
      Objects.requireNonNull(behavior, "behavior");
    }

    /** Appends the words of {@code text} to {@code out}. */
    void split(String text, List<String> out) {
      List<int[]> parts = new ArrayList<>(); // {start, end, isMatch}
      Matcher m = pattern.matcher(text);
      int last = 0;
      while (m.find()) {
        if (m.end() == m.start()) {
          continue;
        }
        if (m.start() > last) {
          parts.add(new int[] {last, m.start(), invert ? 1 : 0});
        }
        parts.add(new int[] {m.start(), m.end(), invert ? 0 : 1});
        last = m.end();
      }
      if (last < text.length()) {
        parts.add(new int[] {last, text.length(), invert ? 1 : 0});
      }
      List<int[]> words = new ArrayList<>(parts.size());
      switch (behavior) {
        case REMOVED -> {
          for (int[] p : parts) {
            if (p[2] == 0) {
              words.add(p);
            }
          }
        }
        case ISOLATED -> words.addAll(parts);
        case MERGED_WITH_PREVIOUS -> {
          boolean previousMatch = false;
          for (int[] p : parts) {
            boolean match = p[2] == 1;
            if (match && !previousMatch && !words.isEmpty()) {
              words.get(words.size() - 1)[1] = p[1];
            } else {
              words.add(p.clone());
            }
            previousMatch = match;
          }
        }
        case MERGED_WITH_NEXT -> {
          boolean previousMatch = false;
          for (int i = parts.size() - 1; i >= 0; i--) {
            int[] p = parts.get(i);
            boolean match = p[2] == 1;
            if (match && !previousMatch && !words.isEmpty()) {
              words.get(words.size() - 1)[0] = p[0];
            } else {
              words.add(p.clone());
            }
            previousMatch = match;
          }
          Collections.reverse(words);
        }
        case CONTIGUOUS -> {
          boolean previousMatch = false;
          for (int[] p : parts) {
            boolean match = p[2] == 1;
            if (match && previousMatch && !words.isEmpty()) {
              words.get(words.size() - 1)[1] = p[1];
            } else {
              words.add(p.clone());
            }
            previousMatch = match;
          }
        }
      }
      for (int[] w : words) {
        out.add(text.substring(w[0], w[1]));
      }
    }
  }

  private final List<Split> splits;
  private final boolean addPrefixSpace;
  private final boolean useRegex;

  /**
   * Creates the pre-tokenizer.
   *
   * @param splits the {@code Split} steps that run before the {@code ByteLevel} step, in order
   * @param addPrefixSpace the {@code ByteLevel} step's {@code add_prefix_space}: prepend a space to
   *     each piece that does not start with one
   * @param useRegex the {@code ByteLevel} step's {@code use_regex}: split with {@link
   *     #GPT2_PATTERN}
   */
  PreTokenizer(List<Split> splits, boolean addPrefixSpace, boolean useRegex) {
    this.splits = List.copyOf(splits);
    this.addPrefixSpace = addPrefixSpace;
    this.useRegex = useRegex;
  }

  /**
   * Returns the GPT-2 pre-tokenizer: no {@code Split} step, the GPT-2 pattern.
   *
   * @param addPrefixSpace whether to prepend a space to text that does not start with one
   * @return the pre-tokenizer
   */
  static PreTokenizer gpt2(boolean addPrefixSpace) {
    return new PreTokenizer(List.of(), addPrefixSpace, true);
  }

  /**
   * Returns the words of {@code text}, each as a {@link ByteLevelAlphabet} string.
   *
   * @param text well-formed text, not empty
   * @return the words, none empty
   */
  List<String> words(String text) {
    List<String> pieces = List.of(text);
    for (Split split : splits) {
      List<String> next = new ArrayList<>();
      for (String piece : pieces) {
        split.split(piece, next);
      }
      pieces = next;
    }
    List<String> words = new ArrayList<>();
    for (String piece : pieces) {
      if (addPrefixSpace && !piece.startsWith(" ")) {
        piece = " " + piece;
      }
      if (useRegex) {
        Matcher m = GPT2_PATTERN.matcher(piece);
        while (m.find()) {
          words.add(ByteLevelAlphabet.map(Utf8.encode(m.group())));
        }
      } else {
        words.add(ByteLevelAlphabet.map(Utf8.encode(piece)));
      }
    }
    return words;
  }

  @Override
  public String toString() {
    return "PreTokenizer[splits="
        + splits
        + ", addPrefixSpace="
        + addPrefixSpace
        + ", useRegex="
        + useRegex
        + "]";
  }
}
