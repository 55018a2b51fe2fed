package dev.jbond;

import dev.jbond.internal.Checks;
import java.util.Arrays;
import java.util.List;

/**
 * An immutable sequence of token ids. It copies the array it is built from and hands out copies, so
 * it can sit inside records.
 */
public final class TokenSequence {
  private static final TokenSequence EMPTY = new TokenSequence(new int[0]);

  private final int[] tokens;

  private TokenSequence(int[] tokens) {
    this.tokens = tokens;
  }

  /**
   * Returns a sequence holding a copy of {@code tokens}.
   *
   * @param tokens token ids, each non-negative
   * @return the sequence
   * @throws IllegalArgumentException when a token id is negative
   */
  public static TokenSequence of(int... tokens) {
    if (tokens.length == 0) {
      return EMPTY;
    }
    for (int i = 0; i < tokens.length; i++) {
      if (tokens[i] < 0) {
        throw new IllegalArgumentException(
            "Expected token ids >= 0, found " + tokens[i] + " at position " + i);
      }
    }
    return new TokenSequence(tokens.clone());
  }

  /**
   * Returns the empty sequence.
   *
   * @return the empty sequence
   */
  public static TokenSequence empty() {
    return EMPTY;
  }

  /**
   * Returns the number of tokens.
   *
   * @return the length
   */
  public int length() {
    return tokens.length;
  }

  /**
   * Returns the token at {@code index}.
   *
   * @param index a position in {@code [0, length())}
   * @return the token id
   * @throws IndexOutOfBoundsException when {@code index} is out of range
   */
  public int get(int index) {
    return tokens[index];
  }

  /**
   * Returns a copy of the tokens.
   *
   * @return a new array
   */
  public int[] toArray() {
    return tokens.clone();
  }

  /**
   * Returns the tokens as an unmodifiable list, for example to write them as a JSON array.
   *
   * @return the token ids, in order
   */
  public List<Integer> toList() {
    return Arrays.stream(tokens).boxed().toList();
  }

  /**
   * Returns this sequence followed by {@code other}.
   *
   * @param other the tokens to append
   * @return the concatenation
   */
  public TokenSequence concat(TokenSequence other) {
    int[] joined = Arrays.copyOf(tokens, tokens.length + other.tokens.length);
    System.arraycopy(other.tokens, 0, joined, tokens.length, other.tokens.length);
    return new TokenSequence(joined);
  }

  /**
   * Checks that every token id is below {@code vocabularySize}.
   *
   * @param vocabularySize the vocabulary size
   * @param what what the sequence is, for the message
   * @return this sequence
   * @throws IllegalArgumentException when a token id is out of range
   */
  public TokenSequence checkVocabulary(int vocabularySize, String what) {
    for (int i = 0; i < tokens.length; i++) {
      Checks.checkArgument(
          tokens[i] < vocabularySize,
          "Expected token ids < vocabulary size %d in %s, found %d at position %d",
          vocabularySize,
          what,
          tokens[i],
          i);
    }
    return this;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TokenSequence other && Arrays.equals(tokens, other.tokens);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(tokens);
  }

  @Override
  public String toString() {
    return Arrays.toString(tokens);
  }
}
