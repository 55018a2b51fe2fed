package dev.jbond.models.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits training text into words for {@link BytePairTrainer}, as Hugging Face's {@code ByteLevel}
 * pre-tokenizer with {@code use_regex} does: optionally prepends a space, splits with the GPT-2
 * pattern and writes each word's UTF-8 bytes in the {@link ByteLevelAlphabet}.
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

  private final boolean addPrefixSpace;

  private PreTokenizer(boolean addPrefixSpace) {
    this.addPrefixSpace = addPrefixSpace;
  }

  /**
   * Returns the GPT-2 pre-tokenizer.
   *
   * @param addPrefixSpace whether to prepend a space to text that does not start with one
   * @return the pre-tokenizer
   */
  static PreTokenizer gpt2(boolean addPrefixSpace) {
    return new PreTokenizer(addPrefixSpace);
  }

  /**
   * Returns the words of {@code text}, each as a {@link ByteLevelAlphabet} string.
   *
   * @param text well-formed text, not empty
   * @return the words, none empty
   */
  List<String> words(String text) {
    String piece = addPrefixSpace && !text.startsWith(" ") ? " " + text : text;
    List<String> words = new ArrayList<>();
    Matcher m = GPT2_PATTERN.matcher(piece);
    while (m.find()) {
      words.add(ByteLevelAlphabet.map(Utf8.encode(m.group())));
    }
    return words;
  }

  @Override
  public String toString() {
    return "PreTokenizer[gpt2, addPrefixSpace=" + addPrefixSpace + "]";
  }
}
