package dev.jbond.models.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Python's {@code str} methods that chat templates call, with Python's semantics (which differ from
 * Java's {@link String} methods of the same names): whitespace is what {@code str.isspace()}
 * accepts, {@code split()} without a separator splits on runs of whitespace, {@code title()}
 * capitalizes every run of cased letters, and case mappings do not depend on the default locale.
 * Text is handled by code points, as Python does.
 */
final class PythonStrings {
  private PythonStrings() {}

  /**
   * Returns whether Python's {@code str.isspace()} holds for the character: bidirectional classes
   * WS, B and S, and general category Zs.
   */
  static boolean isSpace(int c) {
    return (c >= 0x09 && c <= 0x0D)
        || (c >= 0x1C && c <= 0x20)
        || c == 0x85
        || c == 0xA0
        || c == 0x1680
        || (c >= 0x2000 && c <= 0x200A)
        || c == 0x2028
        || c == 0x2029
        || c == 0x202F
        || c == 0x205F
        || c == 0x3000;
  }

  /** {@code s.strip(chars)}; {@code chars == null} strips whitespace. */
  static String strip(String s, String chars, boolean left, boolean right) {
    int start = 0;
    int end = s.length();
    if (left) {
      while (start < end) {
        int c = s.codePointAt(start);
        if (!stripped(c, chars)) {
          break;
        }
        start += Character.charCount(c);
      }
    }
    if (right) {
      while (end > start) {
        int c = s.codePointBefore(end);
        if (!stripped(c, chars)) {
          break;
        }
        end -= Character.charCount(c);
      }
    }
    return s.substring(start, end);
  }

  private static boolean stripped(int c, String chars) {
    return chars == null ? isSpace(c) : chars.codePoints().anyMatch(x -> x == c);
  }

  /**
   * {@code s.split(sep, maxsplit)}; {@code sep == null} splits on runs of whitespace and drops
   * empty parts at the ends; {@code maxsplit < 0} means no limit.
   */
  static List<String> split(String s, String sep, long maxsplit) {
    List<String> parts = new ArrayList<>();
    if (sep == null) {
      int i = 0;
      int n = s.length();
      while (true) {
        while (i < n && isSpace(s.codePointAt(i))) {
          i += Character.charCount(s.codePointAt(i));
        }
        if (i >= n) {
          return parts;
        }
        if (maxsplit >= 0 && parts.size() >= maxsplit) {
          parts.add(s.substring(i));
          return parts;
        }
        int start = i;
        while (i < n && !isSpace(s.codePointAt(i))) {
          i += Character.charCount(s.codePointAt(i));
        }
        parts.add(s.substring(start, i));
      }
    }
    if (sep.isEmpty()) {
      throw new IllegalArgumentException("empty separator");
    }
    int start = 0;
    while (maxsplit < 0 || parts.size() < maxsplit) {
      int at = s.indexOf(sep, start);
      if (at < 0) {
        break;
      }
      parts.add(s.substring(start, at));
      start = at + sep.length();
    }
    parts.add(s.substring(start));
    return parts;
  }

  /** {@code s.replace(old, new, count)}; {@code count < 0} replaces every occurrence. */
  static String replace(String s, String old, String replacement, long count) {
    StringBuilder out = new StringBuilder();
    long done = 0;
    if (old.isEmpty()) {
      int i = 0;
      while (i <= s.length()) {
        if (count < 0 || done < count) {
          out.append(replacement);
          done++;
        }
        if (i == s.length()) {
          break;
        }
        int c = s.codePointAt(i);
        out.appendCodePoint(c);
        i += Character.charCount(c);
      }
      return out.toString();
    }
    int start = 0;
    while (count < 0 || done < count) {
      int at = s.indexOf(old, start);
      if (at < 0) {
        break;
      }
      out.append(s, start, at).append(replacement);
      start = at + old.length();
      done++;
    }
    return out.append(s, start, s.length()).toString();
  }

  /** {@code s.upper()}. */
  static String upper(String s) {
    return s.toUpperCase(Locale.ROOT);
  }

  /** {@code s.lower()}. */
  static String lower(String s) {
    return s.toLowerCase(Locale.ROOT);
  }

  /**
   * {@code s.title()}: a cased character that follows a cased character is lowered, any other is
   * title-cased.
   */
  static String title(String s) {
    StringBuilder out = new StringBuilder(s.length());
    boolean previousCased = false;
    for (int i = 0; i < s.length(); ) {
      int c = s.codePointAt(i);
      i += Character.charCount(c);
      out.appendCodePoint(previousCased ? Character.toLowerCase(c) : Character.toTitleCase(c));
      previousCased = isCased(c);
    }
    return out.toString();
  }

  /**
   * {@code s.capitalize()} (Python 3.8 and later): the first character title-cased, the rest
   * lowered.
   */
  static String capitalize(String s) {
    if (s.isEmpty()) {
      return s;
    }
    int first = s.codePointAt(0);
    return new StringBuilder()
        .appendCodePoint(Character.toTitleCase(first))
        .append(lower(s.substring(Character.charCount(first))))
        .toString();
  }

  private static boolean isCased(int c) {
    return Character.isUpperCase(c) || Character.isLowerCase(c) || Character.isTitleCase(c);
  }

  /**
   * {@code s[index]}: the code point at {@code index}, counted from the end when negative.
   *
   * @return the character as a string, or null when {@code index} is out of range (Jinja's
   *     undefined)
   */
  static String charAt(String s, long index) {
    int count = s.codePointCount(0, s.length());
    long at = index < 0 ? index + count : index;
    if (at < 0 || at >= count) {
      return null;
    }
    int offset = s.offsetByCodePoints(0, (int) at);
    return new String(Character.toChars(s.codePointAt(offset)));
  }
}
