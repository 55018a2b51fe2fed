package dev.jbond.models.chat;

import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.Locale;

/**
 * Python's {@code datetime.strftime} in the C locale (English names), with glibc's {@code %-x}
 * directives that drop the zero padding. Directives: {@code %a %A %b %B %c %d %e %f %H %I %j %m %M
 * %p %S %w %y %Y %z %Z %%}, and {@code %-d %-m %-H %-I %-M %-S %-j}; any other is written as it
 * stands, as glibc does. The time is local and naive, like the {@code datetime.now()} that Hugging
 * Face's {@code strftime_now} formats, so {@code %z} and {@code %Z} are empty.
 */
final class Strftime {
  private Strftime() {}

  static String format(ZonedDateTime time, String format) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < format.length(); i++) {
      char c = format.charAt(i);
      if (c != '%' || i + 1 == format.length()) {
        out.append(c);
        continue;
      }
      char d = format.charAt(i + 1);
      boolean unpadded = d == '-' && i + 2 < format.length();
      if (unpadded) {
        d = format.charAt(i + 2);
      }
      String value = directive(time, d, unpadded);
      if (value == null) {
        out.append(c);
        continue;
      }
      out.append(value);
      i += unpadded ? 2 : 1;
    }
    return out.toString();
  }

  private static String directive(ZonedDateTime t, char d, boolean unpadded) {
    int hour12 = t.getHour() % 12 == 0 ? 12 : t.getHour() % 12;
    if (unpadded) {
      return switch (d) {
        case 'd' -> Integer.toString(t.getDayOfMonth());
        case 'm' -> Integer.toString(t.getMonthValue());
        case 'H' -> Integer.toString(t.getHour());
        case 'I' -> Integer.toString(hour12);
        case 'M' -> Integer.toString(t.getMinute());
        case 'S' -> Integer.toString(t.getSecond());
        case 'j' -> Integer.toString(t.getDayOfYear());
        default -> null;
      };
    }
    return switch (d) {
      case 'a' -> t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
      case 'A' -> t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
      case 'b' -> t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH);
      case 'B' -> t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH);
      case 'c' ->
          directive(t, 'a', false)
              + " "
              + directive(t, 'b', false)
              + " "
              + directive(t, 'e', false)
              + " "
              + directive(t, 'H', false)
              + ":"
              + directive(t, 'M', false)
              + ":"
              + directive(t, 'S', false)
              + " "
              + t.getYear();
      case 'd' -> pad(t.getDayOfMonth(), 2, '0');
      case 'e' -> pad(t.getDayOfMonth(), 2, ' ');
      case 'f' -> pad(t.getNano() / 1000, 6, '0');
      case 'H' -> pad(t.getHour(), 2, '0');
      case 'I' -> pad(hour12, 2, '0');
      case 'j' -> pad(t.getDayOfYear(), 3, '0');
      case 'm' -> pad(t.getMonthValue(), 2, '0');
      case 'M' -> pad(t.getMinute(), 2, '0');
      case 'p' -> t.getHour() < 12 ? "AM" : "PM";
      case 'S' -> pad(t.getSecond(), 2, '0');
      case 'w' -> Integer.toString(t.getDayOfWeek().getValue() % 7);
      case 'y' -> pad(t.getYear() % 100, 2, '0');
      case 'Y' -> Integer.toString(t.getYear());
      case 'z', 'Z' -> "";
      case '%' -> "%";
      default -> null;
    };
  }

  private static String pad(int value, int width, char fill) {
    String digits = Integer.toString(value);
    StringBuilder out = new StringBuilder();
    for (int i = digits.length(); i < width; i++) {
      out.append(fill);
    }
    return out.append(digits).toString();
  }
}
