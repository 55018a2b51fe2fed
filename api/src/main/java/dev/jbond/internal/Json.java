package dev.jbond.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small JSON (RFC 8259) writer and parser, so that {@code api} needs no JSON library.
 *
 * <p>Writing maps Java values to JSON: {@link Map} (with {@link String} keys, written in iteration
 * order) to an object, {@link List} to an array, {@link CharSequence} to a string, {@link Boolean}
 * to {@code true}/{@code false}, {@link Integer}, {@link Long}, {@link Short} and {@link Byte} to
 * an integer, {@link Double} and {@link Float} to a number in {@link Double#toString} / {@link
 * Float#toString} form (which parses back to the same value), and {@code null} as well as NaN and
 * infinities to {@code null}.
 *
 * <p>Parsing maps JSON back: an object to a {@link LinkedHashMap} in document order (duplicate keys
 * are rejected), an array to a {@link List}, a string to a {@link String}, an integer literal (no
 * fraction, no exponent) that fits a {@code long} to a {@link Long}, any other number to a {@link
 * Double}, {@code true}/{@code false} to a {@link Boolean} and {@code null} to Java {@code null}.
 * The returned containers are unmodifiable. Errors name the character position (0-based) of the
 * problem, for example {@code "Expected ',' or '}' at position 17, found 'x'"}.
 */
@Internal
public final class Json {
  /** The deepest nesting of arrays and objects that {@link #parse} accepts. */
  public static final int MAX_DEPTH = 512;

  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private Json() {}

  /**
   * Returns the JSON text of {@code value}.
   *
   * @param value a map, list, string, number, boolean or {@code null} (see the class description)
   * @return the JSON text, on one line
   * @throws IllegalArgumentException when {@code value} or something inside it cannot be written
   */
  public static String write(Object value) {
    StringBuilder out = new StringBuilder();
    write(out, value);
    return out.toString();
  }

  /**
   * Appends the JSON text of {@code value} to {@code out}.
   *
   * @param out where to append
   * @param value a map, list, string, number, boolean or {@code null} (see the class description)
   * @throws IllegalArgumentException when {@code value} or something inside it cannot be written
   */
  public static void write(StringBuilder out, Object value) {
    if (value == null) {
      out.append("null");
    } else if (value instanceof CharSequence text) {
      writeString(out, text);
    } else if (value instanceof Boolean bool) {
      out.append(bool.booleanValue());
    } else if (value instanceof Double d) {
      writeDouble(out, d);
    } else if (value instanceof Float f) {
      out.append(Float.isFinite(f) ? Float.toString(f) : "null");
    } else if (value instanceof Long
        || value instanceof Integer
        || value instanceof Short
        || value instanceof Byte) {
      out.append(((Number) value).longValue());
    } else if (value instanceof Map<?, ?> map) {
      out.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        if (!(entry.getKey() instanceof String key)) {
          throw new IllegalArgumentException(
              "Expected String keys in a JSON object, found " + describe(entry.getKey()));
        }
        if (!first) {
          out.append(',');
        }
        first = false;
        writeString(out, key);
        out.append(':');
        write(out, entry.getValue());
      }
      out.append('}');
    } else if (value instanceof List<?> list) {
      out.append('[');
      for (int i = 0; i < list.size(); i++) {
        if (i > 0) {
          out.append(',');
        }
        write(out, list.get(i));
      }
      out.append(']');
    } else {
      throw new IllegalArgumentException(
          "Expected a JSON value (Map, List, String, Boolean, Long, Integer, Double or null), found "
              + describe(value));
    }
  }

  /**
   * Appends {@code value} as a JSON number, or {@code null} when it is NaN or infinite.
   *
   * @param out where to append
   * @param value the number
   */
  public static void writeDouble(StringBuilder out, double value) {
    out.append(Double.isFinite(value) ? Double.toString(value) : "null");
  }

  /**
   * Appends {@code text} as a quoted JSON string. Quotes, backslashes and control characters are
   * escaped, and so are unpaired surrogates (as {@code \}{@code uXXXX}), so the result is valid
   * UTF-16 text.
   *
   * @param out where to append
   * @param text the string
   */
  public static void writeString(StringBuilder out, CharSequence text) {
    out.append('"');
    int n = text.length();
    for (int i = 0; i < n; i++) {
      char c = text.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (c < 0x20) {
            appendUnicodeEscape(out, c);
          } else if (Character.isHighSurrogate(c)
              && i + 1 < n
              && Character.isLowSurrogate(text.charAt(i + 1))) {
            out.append(c).append(text.charAt(i + 1));
            i++;
          } else if (Character.isSurrogate(c)) {
            appendUnicodeEscape(out, c);
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  /**
   * Describes a parsed value for an error message: a string in quotes, "an array", "an object",
   * else the value as text ({@code null} for null).
   *
   * @param value a value as {@link #parse} returns it
   * @return the description
   */
  public static String describeValue(Object value) {
    if (value instanceof String s) {
      return "\"" + s + "\"";
    } else if (value instanceof List<?>) {
      return "an array";
    } else if (value instanceof Map<?, ?>) {
      return "an object";
    }
    return String.valueOf(value);
  }

  /**
   * Parses one JSON value; only whitespace may surround it.
   *
   * @param text the JSON text
   * @return the value (see the class description for the mapping)
   * @throws IllegalArgumentException when {@code text} is not valid JSON; the message names the
   *     position of the problem
   */
  public static Object parse(String text) {
    Parser parser = new Parser(text);
    parser.skipWhitespace();
    Object value = parser.value(0);
    parser.skipWhitespace();
    if (parser.pos < text.length()) {
      throw parser.error("end of input");
    }
    return value;
  }

  /**
   * Parses a JSON object; only whitespace may surround it.
   *
   * @param text the JSON text
   * @return the object's members in document order, unmodifiable
   * @throws IllegalArgumentException when {@code text} is not valid JSON or not an object
   */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> parseObject(String text) {
    Parser parser = new Parser(text);
    parser.skipWhitespace();
    if (parser.peek() != '{') {
      throw parser.error("'{'");
    }
    Object value = parse(text);
    return (Map<String, Object>) value;
  }

  private static void appendUnicodeEscape(StringBuilder out, char c) {
    out.append("\\u")
        .append(HEX[(c >> 12) & 0xf])
        .append(HEX[(c >> 8) & 0xf])
        .append(HEX[(c >> 4) & 0xf])
        .append(HEX[c & 0xf]);
  }

  private static String describe(Object value) {
    return value == null ? "null" : value.getClass().getName();
  }

  /** A recursive-descent parser over one string; not reusable. */
  private static final class Parser {
    private final String text;
    private int pos;

    Parser(String text) {
      this.text = text;
    }

    int peek() {
      return pos < text.length() ? text.charAt(pos) : -1;
    }

    void skipWhitespace() {
      while (pos < text.length()) {
        char c = text.charAt(pos);
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
          return;
        }
        pos++;
      }
    }

    IllegalArgumentException error(String expected) {
      return errorAt(expected, pos);
    }

    IllegalArgumentException errorAt(String expected, int at) {
      String found = at < text.length() ? "'" + printable(text.charAt(at)) + "'" : "end of input";
      return new IllegalArgumentException(
          "Expected " + expected + " at position " + at + ", found " + found);
    }

    private static String printable(char c) {
      if (c < 0x20 || Character.isSurrogate(c)) {
        return String.format("\\u%04x", (int) c);
      }
      return String.valueOf(c);
    }

    Object value(int depth) {
      int c = peek();
      switch (c) {
        case '{':
          return object(depth + 1);
        case '[':
          return array(depth + 1);
        case '"':
          return string();
        case 't':
          return literal("true", Boolean.TRUE);
        case 'f':
          return literal("false", Boolean.FALSE);
        case 'n':
          return literal("null", null);
        default:
          if (c == '-' || (c >= '0' && c <= '9')) {
            return number();
          }
          throw error("a JSON value");
      }
    }

    private void checkDepth(int depth) {
      if (depth > MAX_DEPTH) {
        throw new IllegalArgumentException(
            "Expected nesting depth <= " + MAX_DEPTH + " at position " + pos + ", found deeper");
      }
    }

    private Map<String, Object> object(int depth) {
      checkDepth(depth);
      pos++; // '{'
      Map<String, Object> members = new LinkedHashMap<>();
      skipWhitespace();
      if (peek() == '}') {
        pos++;
        return Collections.unmodifiableMap(members);
      }
      while (true) {
        skipWhitespace();
        if (peek() != '"') {
          throw error("'\"' (a member name)");
        }
        int keyPos = pos;
        String key = string();
        skipWhitespace();
        if (peek() != ':') {
          throw error("':'");
        }
        pos++;
        skipWhitespace();
        Object value = value(depth);
        if (members.containsKey(key)) {
          throw new IllegalArgumentException(
              "Expected unique member names, found duplicate '" + key + "' at position " + keyPos);
        }
        members.put(key, value);
        skipWhitespace();
        int c = peek();
        if (c == ',') {
          pos++;
        } else if (c == '}') {
          pos++;
          return Collections.unmodifiableMap(members);
        } else {
          throw error("',' or '}'");
        }
      }
    }

    private List<Object> array(int depth) {
      checkDepth(depth);
      pos++; // '['
      List<Object> elements = new ArrayList<>();
      skipWhitespace();
      if (peek() == ']') {
        pos++;
        return Collections.unmodifiableList(elements);
      }
      while (true) {
        skipWhitespace();
        elements.add(value(depth));
        skipWhitespace();
        int c = peek();
        if (c == ',') {
          pos++;
        } else if (c == ']') {
          pos++;
          return Collections.unmodifiableList(elements);
        } else {
          throw error("',' or ']'");
        }
      }
    }

    private String string() {
      pos++; // opening quote
      StringBuilder out = new StringBuilder();
      while (true) {
        if (pos >= text.length()) {
          throw error("'\"' (end of string)");
        }
        char c = text.charAt(pos);
        if (c == '"') {
          pos++;
          return out.toString();
        } else if (c == '\\') {
          pos++;
          int e = peek();
          switch (e) {
            case '"' -> out.append('"');
            case '\\' -> out.append('\\');
            case '/' -> out.append('/');
            case 'b' -> out.append('\b');
            case 'f' -> out.append('\f');
            case 'n' -> out.append('\n');
            case 'r' -> out.append('\r');
            case 't' -> out.append('\t');
            case 'u' -> {
              out.append(hex4(pos + 1));
              pos += 4;
            }
            default -> throw error("an escape character (\"\\/bfnrtu)");
          }
          pos++;
        } else if (c < 0x20) {
          throw error("an escaped control character");
        } else {
          out.append(c);
          pos++;
        }
      }
    }

    private char hex4(int start) {
      int code = 0;
      for (int i = start; i < start + 4; i++) {
        int digit = i < text.length() ? Character.digit(text.charAt(i), 16) : -1;
        if (digit < 0) {
          throw errorAt("a hexadecimal digit", i);
        }
        code = (code << 4) | digit;
      }
      return (char) code;
    }

    private Object literal(String word, Object value) {
      for (int i = 0; i < word.length(); i++) {
        if (pos + i >= text.length() || text.charAt(pos + i) != word.charAt(i)) {
          throw errorAt("'" + word + "'", pos + i);
        }
      }
      pos += word.length();
      return value;
    }

    private Object number() {
      int start = pos;
      boolean integral = true;
      if (peek() == '-') {
        pos++;
      }
      if (peek() == '0') {
        pos++;
      } else if (isDigit(peek())) {
        digits();
      } else {
        throw error("a digit");
      }
      if (peek() == '.') {
        integral = false;
        pos++;
        if (!isDigit(peek())) {
          throw error("a digit");
        }
        digits();
      }
      if (peek() == 'e' || peek() == 'E') {
        integral = false;
        pos++;
        if (peek() == '+' || peek() == '-') {
          pos++;
        }
        if (!isDigit(peek())) {
          throw error("a digit");
        }
        digits();
      }
      String literal = text.substring(start, pos);
      if (integral) {
        try {
          return Long.parseLong(literal);
        } catch (NumberFormatException tooLarge) {
          return Double.parseDouble(literal);
        }
      }
      return Double.parseDouble(literal);
    }

    private void digits() {
      while (isDigit(peek())) {
        pos++;
      }
    }

    private static boolean isDigit(int c) {
      return c >= '0' && c <= '9';
    }
  }
}
