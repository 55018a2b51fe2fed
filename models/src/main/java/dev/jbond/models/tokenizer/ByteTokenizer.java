package dev.jbond.models.tokenizer;

import dev.jbond.TokenSequence;
import java.util.OptionalInt;

/**
 * The byte-level tokenizer of the demo: one token per UTF-8 byte, plus three special tokens.
 *
 * <table>
 *   <caption>Token ids</caption>
 *   <tr><th>id</th><th>token</th></tr>
 *   <tr><td>0..255</td><td>the UTF-8 byte with that value</td></tr>
 *   <tr><td>256 ({@link #EOS_ID})</td><td>{@code <eos>}, end of sequence</td></tr>
 *   <tr><td>257 ({@link #PAD_ID})</td><td>{@code <pad>}, padding</td></tr>
 *   <tr><td>258 ({@link #BOS_ID})</td><td>{@code <bos>}, beginning of sequence</td></tr>
 * </table>
 *
 * <p>The vocabulary size is {@value #VOCABULARY_SIZE}. {@link #encode} returns the UTF-8 bytes of
 * the text and never special tokens (the text {@code "<eos>"} encodes to five bytes), so {@code
 * decode(encode(s)).equals(s)} for every well-formed string, emoji and other supplementary
 * characters included. {@link #decode} writes special tokens as their names.
 */
public final class ByteTokenizer implements Tokenizer {
  /** The id of {@code <eos>}. */
  public static final int EOS_ID = 256;

  /** The id of {@code <pad>}. */
  public static final int PAD_ID = 257;

  /** The id of {@code <bos>}. */
  public static final int BOS_ID = 258;

  /** The number of token ids: 256 bytes and three special tokens. */
  public static final int VOCABULARY_SIZE = 259;

  private static final String[] SPECIAL_NAMES = {"<eos>", "<pad>", "<bos>"};

  /** Creates the tokenizer; all instances are equivalent. */
  public ByteTokenizer() {}

  @Override
  public String name() {
    return "byte";
  }

  @Override
  public int vocabularySize() {
    return VOCABULARY_SIZE;
  }

  @Override
  public TokenSequence encode(String text) {
    byte[] bytes = Utf8.encode(text);
    int[] ids = new int[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      ids[i] = bytes[i] & 0xff;
    }
    return TokenSequence.of(ids);
  }

  @Override
  public String decode(TokenSequence tokens) {
    return decode(tokens, false);
  }

  @Override
  public String decodeLenient(TokenSequence tokens) {
    return decode(tokens, true);
  }

  private String decode(TokenSequence tokens, boolean lenient) {
    tokens.checkVocabulary(VOCABULARY_SIZE, "the tokens to decode");
    int total = 0;
    for (int i = 0; i < tokens.length(); i++) {
      total += tokens.get(i) < 256 ? 1 : 0;
    }
    StringBuilder text = new StringBuilder(tokens.length());
    byte[] run = new byte[total];
    int runLength = 0;
    int runStart = 0;
    for (int i = 0; i < tokens.length(); i++) {
      int id = tokens.get(i);
      if (id < 256) {
        run[runLength++] = (byte) id;
      } else {
        text.append(Utf8.decode(run, runLength, lenient, runStart, total));
        runStart += runLength;
        runLength = 0;
        text.append(SPECIAL_NAMES[id - 256]);
      }
    }
    return text.append(Utf8.decode(run, runLength, lenient, runStart, total)).toString();
  }

  @Override
  public boolean isSpecial(int id) {
    return id >= 256 && id < VOCABULARY_SIZE;
  }

  @Override
  public OptionalInt eosId() {
    return OptionalInt.of(EOS_ID);
  }

  @Override
  public OptionalInt padId() {
    return OptionalInt.of(PAD_ID);
  }

  @Override
  public OptionalInt bosId() {
    return OptionalInt.of(BOS_ID);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ByteTokenizer;
  }

  @Override
  public int hashCode() {
    return ByteTokenizer.class.hashCode();
  }

  @Override
  public String toString() {
    return "ByteTokenizer[vocabularySize=" + VOCABULARY_SIZE + ", eos=256, pad=257, bos=258]";
  }
}
