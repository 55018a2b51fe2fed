package dev.jbond.models.tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Finds added tokens in text, leftmost first and longest first at the same position, as Hugging
 * Face does before pre-tokenization. Immutable and thread-safe.
 */
final class AddedTokenSplitter {
  /** Receives the pieces of a split text, in order. */
  interface Sink {
    /**
     * Receives text between added tokens.
     *
     * @param text a non-empty piece
     */
    void text(String text);

    /**
     * Receives an added token.
     *
     * @param token the token found
     */
    void token(AddedToken token);
  }

  private final Map<Character, List<AddedToken>> byFirstChar;

  AddedTokenSplitter(List<AddedToken> tokens) {
    Map<Character, List<AddedToken>> index = new HashMap<>();
    for (AddedToken token : tokens) {
      index.computeIfAbsent(token.content().charAt(0), c -> new ArrayList<>()).add(token);
    }
    Comparator<AddedToken> longestFirst =
        Comparator.comparingInt((AddedToken t) -> t.content().length()).reversed();
    Map<Character, List<AddedToken>> sorted = new HashMap<>();
    index.forEach(
        (c, list) -> {
          list.sort(longestFirst);
          sorted.put(c, List.copyOf(list));
        });
    this.byFirstChar = Map.copyOf(sorted);
  }

  /**
   * Splits {@code text} into ordinary pieces and added tokens.
   *
   * @param text the text
   * @param sink receives the pieces in order
   */
  void split(String text, Sink sink) {
    int n = text.length();
    int textStart = 0;
    int i = 0;
    while (i < n) {
      AddedToken match = byFirstChar.isEmpty() ? null : matchAt(text, i);
      if (match == null) {
        i++;
        continue;
      }
      int start = i;
      int end = i + match.content().length();
      if (match.leftStrip()) {
        while (start > textStart && Character.isWhitespace(text.codePointBefore(start))) {
          start -= Character.charCount(text.codePointBefore(start));
        }
      }
      if (match.rightStrip()) {
        while (end < n && Character.isWhitespace(text.codePointAt(end))) {
          end += Character.charCount(text.codePointAt(end));
        }
      }
      if (start > textStart) {
        sink.text(text.substring(textStart, start));
      }
      sink.token(match);
      textStart = end;
      i = end;
    }
    if (textStart < n) {
      sink.text(text.substring(textStart));
    }
  }

  private AddedToken matchAt(String text, int i) {
    List<AddedToken> candidates = byFirstChar.get(text.charAt(i));
    if (candidates == null) {
      return null;
    }
    for (AddedToken token : candidates) {
      int end = i + token.content().length();
      if (text.startsWith(token.content(), i)
          && (!token.singleWord()
              || ((i == 0 || !isWordChar(text.codePointBefore(i)))
                  && (end == text.length() || !isWordChar(text.codePointAt(end)))))) {
        return token;
      }
    }
    return null;
  }

  private static boolean isWordChar(int codePoint) {
    return Character.isLetterOrDigit(codePoint) || codePoint == '_';
  }
}
