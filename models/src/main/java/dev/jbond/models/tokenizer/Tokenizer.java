package dev.jbond.models.tokenizer;

import dev.jbond.TokenSequence;
import java.util.Arrays;
import java.util.OptionalInt;

/**
 * Maps text to token ids and back.
 *
 * <p>Implementations are immutable and thread-safe. {@link #encode} never inserts special tokens
 * (no BOS, no EOS): callers add them where their data format says so; {@link
 * #encodeWithSpecialTokens} adds those of the tokenizer's own format. {@link #decode} writes
 * special tokens as their text (for example {@code <eos>}); {@link #withoutSpecialTokens} drops
 * them first when that is not wanted.
 */
public interface Tokenizer {
  /**
   * Returns a short name for messages and metadata, for example {@code byte} or the file a
   * tokenizer was loaded from.
   *
   * @return the name
   */
  String name();

  /**
   * Returns the number of token ids: every id that {@link #encode} returns, and every id that
   * {@link #decode} accepts, lies in {@code [0, vocabularySize())}.
   *
   * @return the vocabulary size, {@code >= 1}
   */
  int vocabularySize();

  /**
   * Returns the token ids of {@code text}, without any added BOS or EOS.
   *
   * <p>A character that the vocabulary cannot represent is handled as the implementation says (for
   * example as an unknown token).
   *
   * @param text well-formed UTF-16 text (no unpaired surrogates)
   * @return the token ids
   * @throws IllegalArgumentException when {@code text} holds an unpaired surrogate, or a character
   *     that the implementation refuses
   */
  TokenSequence encode(String text);

  /**
   * Returns the token ids of {@code text} with the special tokens that the tokenizer's own format
   * puts around a single sequence, for example BERT's {@code [CLS] ... [SEP]}: what a model trained
   * with that tokenizer (a reward model, say) expects as input. By default there are none and this
   * is {@link #encode}.
   *
   * @param text well-formed UTF-16 text (no unpaired surrogates)
   * @return the token ids
   * @throws IllegalArgumentException when {@code text} holds an unpaired surrogate, or a character
   *     that the implementation refuses
   */
  default TokenSequence encodeWithSpecialTokens(String text) {
    return encode(text);
  }

  /**
   * Returns the text of {@code tokens}; special tokens are written as their text.
   *
   * @param tokens token ids below {@link #vocabularySize()}
   * @return the text
   * @throws IllegalArgumentException when an id is outside the vocabulary, or when the tokens'
   *     bytes are not valid UTF-8 (for example a sequence that ends inside a multi-byte character)
   */
  String decode(TokenSequence tokens);

  /**
   * Returns the text of {@code tokens} like {@link #decode}, but replaces bytes that are not valid
   * UTF-8 with U+FFFD (the replacement character) instead of failing. Use it for sampled text,
   * which may stop inside a character.
   *
   * @param tokens token ids below {@link #vocabularySize()}
   * @return the text
   * @throws IllegalArgumentException when an id is outside the vocabulary
   */
  String decodeLenient(TokenSequence tokens);

  /**
   * Tells whether {@code id} is a special token (EOS, padding, BOS or another control token).
   *
   * @param id a token id
   * @return true for a special token; false for an ordinary one or an id outside the vocabulary
   */
  boolean isSpecial(int id);

  /**
   * Returns the end-of-sequence token, when the tokenizer has one.
   *
   * @return the EOS id, or empty
   */
  OptionalInt eosId();

  /**
   * Returns the padding token, when the tokenizer has one.
   *
   * @return the padding id, or empty
   */
  OptionalInt padId();

  /**
   * Returns the beginning-of-sequence token, when the tokenizer has one.
   *
   * @return the BOS id, or empty
   */
  OptionalInt bosId();

  /**
   * Returns {@code tokens} without its special tokens.
   *
   * @param tokens token ids
   * @return the ordinary tokens, in order
   */
  default TokenSequence withoutSpecialTokens(TokenSequence tokens) {
    int[] ids = tokens.toArray();
    int kept = 0;
    for (int id : ids) {
      if (!isSpecial(id)) {
        ids[kept++] = id;
      }
    }
    return kept == ids.length ? tokens : TokenSequence.of(Arrays.copyOf(ids, kept));
  }
}
