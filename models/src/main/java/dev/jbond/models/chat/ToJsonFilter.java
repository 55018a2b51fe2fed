package dev.jbond.models.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.objects.SafeString;
import dev.jbond.internal.Json;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import jinjava.javax.el.ELException;

/**
 * The {@code tojson} filter as Hugging Face defines it for chat templates: Python's {@code
 * json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=sort_keys)}. Without {@code
 * indent} items are separated by {@code ", "} and keys by {@code ": "}; with it, each item is on
 * its own line, indented by {@code indent} spaces per level, and items are separated by {@code
 * ","}. Strings escape only quotes, backslashes and control characters (Jinja's own {@code tojson}
 * would also escape {@code <}, {@code >}, {@code &} and {@code '}). Keyword arguments: {@code
 * indent}, {@code sort_keys}, {@code ensure_ascii} (escape every non-ASCII character as {@code
 * \}{@code uXXXX}).
 */
final class ToJsonFilter extends KeywordFilter {
  @Override
  public String getName() {
    return "tojson";
  }

  @Override
  public Object filter(
      Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
    Object indent = args.length > 0 ? args[0] : kwargs.get("indent");
    int spaces = indent == null ? -1 : (int) integer(indent, "indent");
    boolean sortKeys = truthy(kwargs.get("sort_keys"));
    boolean ensureAscii = truthy(kwargs.get("ensure_ascii"));
    StringBuilder out = new StringBuilder();
    write(out, var, spaces, 0, sortKeys);
    return ensureAscii ? asciiOnly(out) : out.toString();
  }

  private static void write(StringBuilder out, Object value, int indent, int depth, boolean sort) {
    if (value == null) {
      out.append("null");
    } else if (value instanceof Boolean bool) {
      out.append(bool.booleanValue());
    } else if (value instanceof String || value instanceof SafeString) {
      Json.writeString(out, value.toString());
    } else if (value instanceof Long
        || value instanceof Integer
        || value instanceof Short
        || value instanceof Byte
        || value instanceof BigInteger) {
      out.append(value);
    } else if (value instanceof Double || value instanceof Float || value instanceof BigDecimal) {
      out.append(pythonFloat(((Number) value).doubleValue()));
    } else if (value instanceof Map<?, ?> map) {
      List<Map.Entry<String, Object>> entries = new ArrayList<>();
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        entries.add(Map.entry(key(entry.getKey()), nullable(entry.getValue())));
      }
      if (sort) {
        entries.sort(Comparator.comparing(Map.Entry::getKey));
      }
      out.append('{');
      for (int i = 0; i < entries.size(); i++) {
        separate(out, i, indent, depth + 1);
        Json.writeString(out, entries.get(i).getKey());
        out.append(": ");
        write(out, unwrap(entries.get(i).getValue()), indent, depth + 1, sort);
      }
      close(out, entries.isEmpty(), indent, depth);
      out.append('}');
    } else if (value instanceof Iterable<?> items) {
      out.append('[');
      int i = 0;
      for (Object item : items) {
        separate(out, i++, indent, depth + 1);
        write(out, item, indent, depth + 1, sort);
      }
      close(out, i == 0, indent, depth);
      out.append(']');
    } else {
      throw new ELException(
          "Object of type " + value.getClass().getSimpleName() + " is not JSON serializable");
    }
  }

  private static final Object NULL = new Object();

  private static Object nullable(Object value) {
    return value == null ? NULL : value;
  }

  private static Object unwrap(Object value) {
    return value == NULL ? null : value;
  }

  private static void separate(StringBuilder out, int index, int indent, int depth) {
    if (index > 0) {
      out.append(indent < 0 ? ", " : ",");
    }
    newline(out, indent, depth);
  }

  private static void close(StringBuilder out, boolean empty, int indent, int depth) {
    if (!empty) {
      newline(out, indent, depth);
    }
  }

  private static void newline(StringBuilder out, int indent, int depth) {
    if (indent >= 0) {
      out.append('\n').append(" ".repeat(indent * depth));
    }
  }

  private static String key(Object key) {
    if (key instanceof String text) {
      return text;
    } else if (key == null) {
      return "null";
    } else if (key instanceof Boolean bool) {
      return bool.toString();
    } else if (key instanceof Double || key instanceof Float) {
      return pythonFloat(((Number) key).doubleValue());
    } else if (key instanceof Number) {
      return key.toString();
    }
    throw new ELException(
        "Keys must be str, int, float, bool or None, not " + key.getClass().getSimpleName());
  }

  /** Python's {@code repr(float)}, as {@code json.dumps} writes it. */
  static String pythonFloat(double value) {
    if (Double.isNaN(value)) {
      return "NaN";
    } else if (Double.isInfinite(value)) {
      return value > 0 ? "Infinity" : "-Infinity";
    } else if (value == 0) {
      return 1 / value < 0 ? "-0.0" : "0.0";
    }
    BigDecimal decimal = new BigDecimal(Double.toString(value)).stripTrailingZeros();
    int exponent = decimal.precision() - decimal.scale() - 1;
    if (exponent >= -4 && exponent < 16) {
      String plain = decimal.toPlainString();
      return plain.contains(".") ? plain : plain + ".0";
    }
    String digits = decimal.unscaledValue().abs().toString();
    String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
    return (value < 0 ? "-" : "")
        + mantissa
        + "e"
        + (exponent < 0 ? "-" : "+")
        + (Math.abs(exponent) < 10 ? "0" : "")
        + Math.abs(exponent);
  }

  private static String asciiOnly(CharSequence json) {
    StringBuilder out = new StringBuilder(json.length());
    for (int i = 0; i < json.length(); i++) {
      char c = json.charAt(i);
      if (c < 0x80) {
        out.append(c);
      } else {
        out.append(String.format("\\u%04x", (int) c));
      }
    }
    return out.toString();
  }

  private static long integer(Object value, String name) {
    if (value instanceof Long || value instanceof Integer) {
      return ((Number) value).longValue();
    }
    throw new ELException("tojson expects an integer '" + name + "', found " + value);
  }

  private static boolean truthy(Object value) {
    return value instanceof Boolean bool && bool;
  }
}
