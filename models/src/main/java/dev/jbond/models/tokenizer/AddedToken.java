package dev.jbond.models.tokenizer;

import java.util.Objects;

/**
 * One entry of a {@code tokenizer.json}'s {@code added_tokens}: a token matched in the text before
 * pre-tokenization.
 *
 * @param id its id
 * @param content its text, not empty
 * @param singleWord match only where neither neighbour is a word character (a letter, digit or
 *     {@code _})
 * @param leftStrip the match also takes the white space before it
 * @param rightStrip the match also takes the white space after it
 * @param special whether it is a special (control) token
 */
record AddedToken(
    int id,
    String content,
    boolean singleWord,
    boolean leftStrip,
    boolean rightStrip,
    boolean special) {
  AddedToken {
    Objects.requireNonNull(content, "content");
  }
}
