package dev.jbond.models.tokenizer;

import dev.jbond.internal.Checks;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Strict and lenient UTF-8 conversion with one-line messages that name the position. */
final class Utf8 {
  private Utf8() {}

  /**
   * Checks that {@code text} has no unpaired surrogate, so that it has a UTF-8 form.
   *
   * @param text the text
   * @throws IllegalArgumentException when {@code text} holds an unpaired surrogate
   */
  static void checkWellFormed(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw new IllegalArgumentException(
            String.format(
                "Expected well-formed UTF-16 text, found an unpaired surrogate U+%04X at index %d",
                (int) c, i));
      }
    }
  }

  /**
   * Returns the UTF-8 bytes of {@code text}.
   *
   * @param text well-formed UTF-16 text
   * @return the bytes
   * @throws IllegalArgumentException when {@code text} holds an unpaired surrogate
   */
  static byte[] encode(String text) {
    checkWellFormed(text);
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Returns the text of the first {@code length} bytes of {@code bytes}.
   *
   * @param bytes UTF-8 bytes
   * @param length how many bytes to decode
   * @param lenient true to replace malformed bytes with U+FFFD, false to fail on them
   * @return the text
   * @throws IllegalArgumentException when {@code lenient} is false and the bytes are not UTF-8
   */
  static String decode(byte[] bytes, int length, boolean lenient) {
    return decode(bytes, length, lenient, 0, length);
  }

  /**
   * Returns the text of the first {@code length} bytes of {@code bytes}, which are the bytes from
   * {@code offset} on of a longer sequence of {@code total} bytes (named in the error message).
   *
   * @param bytes UTF-8 bytes
   * @param length how many bytes to decode
   * @param lenient true to replace malformed bytes with U+FFFD, false to fail on them
   * @param offset the position of {@code bytes[0]} in the whole sequence
   * @param total the length of the whole sequence
   * @return the text
   * @throws IllegalArgumentException when {@code lenient} is false and the bytes are not UTF-8
   */
  static String decode(byte[] bytes, int length, boolean lenient, int offset, int total) {
    if (lenient) {
      return new String(bytes, 0, length, StandardCharsets.UTF_8);
    }
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(bytes, 0, length);
    CharBuffer out = CharBuffer.allocate(length);
    CoderResult result = decoder.decode(in, out, true);
    if (result.isUnderflow()) {
      result = decoder.flush(out);
    }
    if (result.isError()) {
      throw new IllegalArgumentException(
          String.format(
              "Expected tokens whose bytes are valid UTF-8, found a malformed sequence at byte %d"
                  + " of %d",
              offset + in.position(), total));
    }
    // The output buffer holds one char per input byte, which UTF-8 never exceeds.
    Checks.verify(result.isUnderflow(), "UTF-8 decoding of %d bytes overflowed its buffer", length);
    out.flip();
    return out.toString();
  }
}
