package dev.jbond.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.TokenSequence;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ByteTokenizerTest {
  private final ByteTokenizer tokenizer = new ByteTokenizer();

  @Test
  void encode_asciiText_returnsByteValues() {
    assertArrayEquals(new int[] {72, 105, 33, 10}, tokenizer.encode("Hi!\n").toArray());
  }

  @Test
  void encode_multiByteCharacters_returnsTheirUtf8Bytes() {
    String text = "é€😀";

    int[] ids = tokenizer.encode(text).toArray();

    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    assertEquals(2 + 3 + 4, ids.length);
    for (int i = 0; i < bytes.length; i++) {
      assertEquals(bytes[i] & 0xff, ids[i]);
    }
  }

  @Test
  void encodeWithSpecialTokens_byDefault_addsNoBosOrEos() {
    assertEquals(tokenizer.encode("Hi <eos>"), tokenizer.encodeWithSpecialTokens("Hi <eos>"));
  }

  @Test
  void encodeDecode_variedText_roundTripsExactly() {
    List<String> texts =
        List.of(
            "",
            "The soup was very good!",
            "  spaces,\ttabs\nand\r\nlines  ",
            "Café naïve €2 灯台 маяк",
            "emoji 😀👍🏽 family 👨‍👩‍👧 flag 🇺🇳",
            "<eos> is just text here",
            "\u0000\u007f\u00ad");
    for (String text : texts) {
      assertEquals(text, tokenizer.decode(tokenizer.encode(text)), text);
    }
  }

  @Test
  void encodeDecode_randomCodePoints_roundTripsExactly() {
    SplittableRandom random = new SplittableRandom(11);
    for (int i = 0; i < 500; i++) {
      StringBuilder text = new StringBuilder();
      int length = random.nextInt(30);
      for (int j = 0; j < length; j++) {
        int codePoint;
        do {
          codePoint = random.nextInt(Character.MAX_CODE_POINT + 1);
        } while (codePoint >= Character.MIN_SURROGATE && codePoint <= Character.MAX_SURROGATE);
        text.appendCodePoint(codePoint);
      }
      String original = text.toString();

      assertEquals(original, tokenizer.decode(tokenizer.encode(original)));
    }
  }

  @Test
  void encode_textThatSpellsASpecialToken_returnsPlainBytes() {
    assertEquals(5, tokenizer.encode("<eos>").length());
    assertFalse(tokenizer.encode("<eos>").toString().contains("256"));
  }

  @Test
  void encode_unpairedSurrogate_throwsNamingTheIndex() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> tokenizer.encode("ab\ud83d"));

    assertEquals(
        "Expected well-formed UTF-16 text, found an unpaired surrogate U+D83D at index 2",
        e.getMessage());
  }

  @Test
  void decode_specialTokens_writesTheirNames() {
    TokenSequence tokens =
        TokenSequence.of(
            ByteTokenizer.BOS_ID, 'h', 'i', ByteTokenizer.EOS_ID, ByteTokenizer.PAD_ID);

    assertEquals("<bos>hi<eos><pad>", tokenizer.decode(tokens));
  }

  @Test
  void decode_truncatedMultiByteCharacter_throwsNamingTheByte() {
    TokenSequence tokens = TokenSequence.of('a', 0xe2, 0x82);

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> tokenizer.decode(tokens));

    assertEquals(
        "Expected tokens whose bytes are valid UTF-8, found a malformed sequence at byte 1 of 3",
        e.getMessage());
  }

  @Test
  void decode_malformedByteAfterSpecialToken_namesItsPositionAmongAllBytes() {
    TokenSequence tokens = TokenSequence.of('a', 'b', ByteTokenizer.EOS_ID, 'c', 0xff, 'd');

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> tokenizer.decode(tokens));

    assertEquals(
        "Expected tokens whose bytes are valid UTF-8, found a malformed sequence at byte 3 of 5",
        e.getMessage());
  }

  @Test
  void decodeLenient_truncatedMultiByteCharacter_replacesIt() {
    TokenSequence tokens = TokenSequence.of('a', 0xe2, 0x82, ByteTokenizer.EOS_ID, 0xff, 'b');

    assertEquals("a\ufffd<eos>\ufffdb", tokenizer.decodeLenient(tokens));
  }

  @Test
  void decode_idOutsideVocabulary_throwsNamingIt() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> tokenizer.decode(TokenSequence.of(1, 259)));

    assertEquals(
        "Expected token ids < vocabulary size 259 in the tokens to decode, found 259 at position 1",
        e.getMessage());
  }

  @Test
  void specialTokens_haveTheDocumentedIds() {
    assertEquals(259, tokenizer.vocabularySize());
    assertEquals(OptionalInt.of(256), tokenizer.eosId());
    assertEquals(OptionalInt.of(257), tokenizer.padId());
    assertEquals(OptionalInt.of(258), tokenizer.bosId());
    assertTrue(tokenizer.isSpecial(256) && tokenizer.isSpecial(257) && tokenizer.isSpecial(258));
    assertFalse(tokenizer.isSpecial(255) || tokenizer.isSpecial(259) || tokenizer.isSpecial(-1));
  }

  @Test
  void withoutSpecialTokens_sequenceWithEosAndPadding_keepsOnlyBytes() {
    TokenSequence tokens = TokenSequence.of('o', 'k', 256, 257, 257);

    assertEquals(TokenSequence.of('o', 'k'), tokenizer.withoutSpecialTokens(tokens));
  }
}
