package dev.jbond.models.tokenizer;

import java.util.Arrays;

/**
 * The byte-to-character mapping of byte-level BPE (GPT-2, and every Hugging Face {@code ByteLevel}
 * pre-tokenizer and decoder): each of the 256 byte values is written as one printable character, so
 * that vocabularies and merges are plain strings.
 *
 * <p>The bytes {@code 0x21..0x7E}, {@code 0xA1..0xAC} and {@code 0xAE..0xFF} map to the character
 * with the same code. The 68 others ({@code 0x00..0x20}, {@code 0x7F..0xA0} and {@code 0xAD}) map,
 * in increasing byte order, to U+0100, U+0101, ..., U+0143; so the space {@code 0x20} becomes
 * U+0120 ({@code Ġ}) and the line feed {@code 0x0A} becomes U+010A ({@code Ċ}).
 */
final class ByteLevelAlphabet {
  private static final char[] BYTE_TO_CHAR = new char[256];
  private static final int[] CHAR_TO_BYTE = new int[256 + 68];

  static {
    Arrays.fill(CHAR_TO_BYTE, -1);
    int next = 256;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
      char c = printable ? (char) b : (char) next++;
      BYTE_TO_CHAR[b] = c;
      CHAR_TO_BYTE[c] = b;
    }
  }

  private ByteLevelAlphabet() {}

  /**
   * Returns the character that stands for byte {@code b}.
   *
   * @param b a byte value in {@code [0, 256)}
   * @return its character
   */
  static char charOf(int b) {
    return BYTE_TO_CHAR[b];
  }

  /**
   * Returns the byte that {@code c} stands for, or -1 when {@code c} is not in the alphabet.
   *
   * @param c a character
   * @return the byte value in {@code [0, 256)}, or -1
   */
  static int byteOf(char c) {
    return c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
  }

  /**
   * Returns the alphabet string of {@code bytes}: one character per byte.
   *
   * @param bytes raw bytes
   * @return the mapped string
   */
  static String map(byte[] bytes) {
    char[] chars = new char[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      chars[i] = BYTE_TO_CHAR[bytes[i] & 0xff];
    }
    return new String(chars);
  }

  /**
   * Appends the bytes that {@code token} stands for to {@code out}, and returns the new length. A
   * token with a character outside the alphabet (an added token such as {@code "<eos> "}) stands
   * for its own UTF-8 bytes, as in Hugging Face's {@code ByteLevel} decoder.
   *
   * @param token a vocabulary string
   * @param out the buffer, large enough (see {@link #maxBytes})
   * @param length the number of bytes already in {@code out}
   * @return the number of bytes in {@code out} afterwards
   */
  static int unmap(String token, byte[] out, int length) {
    int start = length;
    for (int i = 0; i < token.length(); i++) {
      int b = byteOf(token.charAt(i));
      if (b < 0) {
        byte[] raw = Utf8.encode(token);
        System.arraycopy(raw, 0, out, start, raw.length);
        return start + raw.length;
      }
      out[length++] = (byte) b;
    }
    return length;
  }

  /**
   * Returns an upper bound of the bytes {@link #unmap} writes for {@code token}.
   *
   * @param token a vocabulary string
   * @return {@code 3 * token.length()}, the most UTF-8 bytes a UTF-16 string of that length needs
   */
  static int maxBytes(String token) {
    return 3 * token.length();
  }
}
