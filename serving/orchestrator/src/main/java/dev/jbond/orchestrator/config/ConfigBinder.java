package dev.jbond.orchestrator.config;

import jakarta.annotation.Nullable;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Binds a parsed YAML/JSON tree (maps, lists, scalars as SnakeYAML produces them) to configuration
 * records, strictly: keys are the record components in kebab case, an unknown key or a value of the
 * wrong type is a {@link ConfigException} naming the key's path and what was expected, and a
 * missing key takes the value of the defaults instance. Range checks are not done here; they are
 * Jakarta constraints on the records, checked afterwards by {@link RunConfigLoader}.
 *
 * <p>Types: records, {@code List<record>}, {@code int}, {@code long}, {@code double}, {@code
 * boolean} and their boxes (a box is nullable only when its component is {@link Nullable}), {@code
 * String}, enums (kebab case, case-insensitive) and {@link Duration} ({@code 30s}, {@code 500ms},
 * {@code 2m}, {@code 1h} or ISO-8601).
 */
final class ConfigBinder {
  private ConfigBinder() {}

  /**
   * Binds {@code node} to a record of type {@code type}.
   *
   * @param type the record type
   * @param node the parsed value: a map, or null for "all defaults"
   * @param defaults the defaults of every component; null where the type has none (list elements):
   *     missing reference-typed components are then null, missing primitives an error
   * @param path the key path of {@code node}, empty at the root
   * @return the record
   */
  static <T extends Record> T bind(Class<T> type, Object node, T defaults, String path) {
    if (node == null) {
      if (defaults != null) {
        return defaults;
      }
      node = Map.of();
    }
    if (!(node instanceof Map<?, ?> map)) {
      throw new ConfigException(path, "expected a mapping of keys, found " + describe(node));
    }
    RecordComponent[] components = type.getRecordComponents();
    Map<String, RecordComponent> byKey = new LinkedHashMap<>();
    for (RecordComponent c : components) {
      byKey.put(kebab(c.getName()), c);
    }
    for (Object key : map.keySet()) {
      if (!(key instanceof String name) || !byKey.containsKey(name)) {
        throw new ConfigException(
            join(path, String.valueOf(key)), "unknown key, expected one of " + byKey.keySet());
      }
    }
    Object[] values = new Object[components.length];
    Class<?>[] types = new Class<?>[components.length];
    for (int i = 0; i < components.length; i++) {
      RecordComponent c = components[i];
      types[i] = c.getType();
      String key = kebab(c.getName());
      String childPath = join(path, key);
      Object fallback = defaults == null ? null : read(c, defaults);
      if (map.containsKey(key)) {
        values[i] = convert(c, map.get(key), fallback, childPath);
      } else if (defaults != null) {
        values[i] = fallback;
      } else if (c.getType().isPrimitive()) {
        throw new ConfigException(childPath, "missing key, expected " + expected(c.getType()));
      } else {
        values[i] = null;
      }
    }
    try {
      Constructor<T> constructor = type.getDeclaredConstructor(types);
      return constructor.newInstance(values);
    } catch (InvocationTargetException e) {
      Throwable cause = e.getCause();
      throw new ConfigException(
          path, cause.getMessage() == null ? cause.toString() : cause.getMessage(), cause);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("Cannot construct configuration record " + type, e);
    }
  }

  private static Object convert(RecordComponent c, Object value, Object fallback, String path) {
    Class<?> type = c.getType();
    if (value == null) {
      if (c.isAnnotationPresent(Nullable.class)) {
        return null;
      }
      throw new ConfigException(path, "expected " + expected(type) + ", found null");
    }
    if (type.isRecord()) {
      return bindRecord(type, value, fallback, path);
    }
    if (type == List.class) {
      Type element = ((ParameterizedType) c.getGenericType()).getActualTypeArguments()[0];
      if (!(value instanceof List<?> list)) {
        throw new ConfigException(path, "expected a list, found " + describe(value));
      }
      List<Object> out = new ArrayList<>(list.size());
      for (int i = 0; i < list.size(); i++) {
        String itemPath = path + "[" + i + "]";
        Object item = list.get(i);
        if (element instanceof Class<?> k && k.isRecord()) {
          out.add(bindRecord(k, item, null, itemPath));
        } else if (element instanceof Class<?> k) {
          out.add(scalar(k, item, itemPath));
        } else {
          throw new IllegalStateException("Unsupported list element type " + element);
        }
      }
      return out;
    }
    return scalar(type, value, path);
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Object bindRecord(Class<?> type, Object value, Object fallback, String path) {
    return bind((Class) type, value, (Record) fallback, path);
  }

  private static Object scalar(Class<?> type, Object value, String path) {
    if (type == int.class || type == Integer.class) {
      long v = integer(value, path);
      if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
        throw new ConfigException(path, "expected a 32-bit integer, found " + value);
      }
      return (int) v;
    }
    if (type == long.class || type == Long.class) {
      return integer(value, path);
    }
    if (type == double.class || type == Double.class) {
      if (value instanceof Number n && !(value instanceof java.math.BigInteger)) {
        double d = n.doubleValue();
        if (!Double.isFinite(d)) {
          throw new ConfigException(path, "expected a finite number, found " + value);
        }
        return d;
      }
      throw new ConfigException(path, "expected a number, found " + describe(value));
    }
    if (type == boolean.class || type == Boolean.class) {
      if (value instanceof Boolean b) {
        return b;
      }
      throw new ConfigException(path, "expected true or false, found " + describe(value));
    }
    if (type == String.class) {
      if (value instanceof String || value instanceof Number || value instanceof Boolean) {
        return value.toString();
      }
      throw new ConfigException(path, "expected a string, found " + describe(value));
    }
    if (type == Duration.class) {
      if (value instanceof String s) {
        try {
          return Durations.parse(s);
        } catch (IllegalArgumentException e) {
          throw new ConfigException(path, e.getMessage(), e);
        }
      }
      throw new ConfigException(
          path, "expected a duration such as 30s, 500ms or 2m, found " + describe(value));
    }
    if (type.isEnum()) {
      if (value instanceof String s) {
        String wanted = s.strip().toLowerCase(Locale.ROOT).replace('_', '-');
        for (Object constant : type.getEnumConstants()) {
          if (kebabConstant((Enum<?>) constant).equals(wanted)) {
            return constant;
          }
        }
      }
      List<String> names = new ArrayList<>();
      for (Object constant : type.getEnumConstants()) {
        names.add(kebabConstant((Enum<?>) constant));
      }
      throw new ConfigException(path, "expected one of " + names + ", found " + describe(value));
    }
    throw new IllegalStateException("Unsupported configuration type " + type + " at " + path);
  }

  private static long integer(Object value, String path) {
    if (value instanceof Integer || value instanceof Long || value instanceof Short) {
      return ((Number) value).longValue();
    }
    if (value instanceof Double d && d == Math.rint(d) && Math.abs(d) < 9.0e15) {
      return d.longValue();
    }
    if (value instanceof java.math.BigInteger) {
      throw new ConfigException(path, "expected a 64-bit integer, found " + value);
    }
    throw new ConfigException(path, "expected an integer, found " + describe(value));
  }

  private static Object read(RecordComponent c, Object owner) {
    try {
      return c.getAccessor().invoke(owner);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("Cannot read configuration component " + c, e);
    }
  }

  /** Describes a parsed value for an error message. */
  static String describe(Object value) {
    if (value == null) {
      return "null";
    }
    if (value instanceof Map<?, ?>) {
      return "a mapping";
    }
    if (value instanceof List<?>) {
      return "a list";
    }
    if (value instanceof String s) {
      return "\"" + s + "\"";
    }
    return String.valueOf(value);
  }

  private static String expected(Class<?> type) {
    if (type == int.class || type == long.class || type == Integer.class || type == Long.class) {
      return "an integer";
    }
    if (type == double.class || type == Double.class) {
      return "a number";
    }
    if (type == boolean.class || type == Boolean.class) {
      return "true or false";
    }
    if (type.isRecord()) {
      return "a mapping of keys";
    }
    if (type == List.class) {
      return "a list";
    }
    if (type == Duration.class) {
      return "a duration such as 30s";
    }
    return "a value";
  }

  /** {@code checkpointEvery} -> {@code checkpoint-every}. */
  static String kebab(String camel) {
    StringBuilder b = new StringBuilder(camel.length() + 4);
    for (int i = 0; i < camel.length(); i++) {
      char ch = camel.charAt(i);
      if (Character.isUpperCase(ch)) {
        b.append('-').append(Character.toLowerCase(ch));
      } else {
        b.append(ch);
      }
    }
    return b.toString();
  }

  /** {@code ITERATIVE_BOND} -> {@code iterative-bond}. */
  static String kebabConstant(Enum<?> constant) {
    return constant.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  private static String join(String path, String key) {
    return path.isEmpty() ? key : path + "." + key;
  }
}
