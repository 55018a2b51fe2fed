package dev.jbond.models.chat;

import com.hubspot.jinjava.el.ext.NamedParameter;
import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELException;
import jinjava.javax.el.ELResolver;

/**
 * Resolves Python's {@code str} methods ({@code strip}, {@code lstrip}, {@code rstrip}, {@code
 * startswith}, {@code endswith}, {@code split}, {@code upper}, {@code lower}, {@code title}, {@code
 * capitalize}, {@code replace}, {@code join}) and integer indexing ({@code s[0]}, {@code s[-1]}) on
 * strings, which Jinjava would otherwise send to Java's {@link String} methods (missing, or with
 * other semantics). Everything else is left to the resolvers after this one. Stateless, so
 * thread-safe.
 */
final class PythonMethodResolver extends ELResolver {
  private static final Set<String> METHODS =
      Set.of(
          "strip",
          "lstrip",
          "rstrip",
          "startswith",
          "endswith",
          "split",
          "upper",
          "lower",
          "title",
          "capitalize",
          "replace",
          "join");

  @Override
  public Object invoke(
      ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
    if (!(base instanceof String s) || method == null || !METHODS.contains(method.toString())) {
      return null;
    }
    String name = method.toString();
    Arguments args = new Arguments(name, params == null ? new Object[0] : params);
    Object result =
        switch (name) {
          case "strip" -> PythonStrings.strip(s, args.optionalString(0, "chars"), true, true);
          case "lstrip" -> PythonStrings.strip(s, args.optionalString(0, "chars"), true, false);
          case "rstrip" -> PythonStrings.strip(s, args.optionalString(0, "chars"), false, true);
          case "startswith" -> affixes(args).stream().anyMatch(s::startsWith);
          case "endswith" -> affixes(args).stream().anyMatch(s::endsWith);
          case "split" ->
              new ArrayList<>(
                  PythonStrings.split(
                      s, args.optionalString(0, "sep"), args.optionalLong(1, "maxsplit", -1)));
          case "upper" -> PythonStrings.upper(s);
          case "lower" -> PythonStrings.lower(s);
          case "title" -> PythonStrings.title(s);
          case "capitalize" -> PythonStrings.capitalize(s);
          case "replace" ->
              PythonStrings.replace(
                  s,
                  args.requiredString(0, "old"),
                  args.requiredString(1, "new"),
                  args.optionalLong(2, "count", -1));
          case "join" -> join(s, args.required(0, "iterable"));
          default -> throw new IllegalStateException("Unhandled string method " + name);
        };
    args.checkAllUsed();
    context.setPropertyResolved(true);
    return result;
  }

  private static List<String> affixes(Arguments args) {
    Object value = args.required(0, "prefix");
    if (value instanceof String text) {
      return List.of(text);
    }
    if (value instanceof List<?> list) {
      List<String> texts = new ArrayList<>();
      for (Object item : list) {
        if (!(item instanceof String text)) {
          throw new ELException(
              args.method + "() expects a string or a tuple of strings, found " + describe(item));
        }
        texts.add(text);
      }
      return texts;
    }
    throw new ELException(
        args.method + "() expects a string or a tuple of strings, found " + describe(value));
  }

  private static String join(String separator, Object iterable) {
    if (!(iterable instanceof Iterable<?> items)) {
      throw new ELException("join() expects an iterable of strings, found " + describe(iterable));
    }
    StringBuilder out = new StringBuilder();
    boolean first = true;
    for (Object item : items) {
      if (!(item instanceof String text)) {
        throw new ELException("join() expects an iterable of strings, found " + describe(item));
      }
      if (!first) {
        out.append(separator);
      }
      out.append(text);
      first = false;
    }
    return out.toString();
  }

  @Override
  public Object getValue(ELContext context, Object base, Object property) {
    // Jinjava passes a bracket's index as its string form
    if (base instanceof String s
        && (property instanceof Long || property instanceof Integer || isInteger(property))) {
      context.setPropertyResolved(true);
      return PythonStrings.charAt(s, Long.parseLong(property.toString()));
    }
    return null;
  }

  private static boolean isInteger(Object property) {
    return property instanceof String text && text.matches("-?[0-9]{1,18}");
  }

  @Override
  public Class<?> getType(ELContext context, Object base, Object property) {
    return null;
  }

  @Override
  public void setValue(ELContext context, Object base, Object property, Object value) {}

  @Override
  public boolean isReadOnly(ELContext context, Object base, Object property) {
    return false;
  }

  @Override
  public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
    return Collections.emptyIterator();
  }

  @Override
  public Class<?> getCommonPropertyType(ELContext context, Object base) {
    return null;
  }

  private static String describe(Object value) {
    return value == null ? "None" : value.getClass().getSimpleName() + " " + value;
  }

  /** A call's positional and keyword arguments (Jinjava passes the latter as NamedParameter). */
  private static final class Arguments {
    private final String method;
    private final List<Object> positional = new ArrayList<>();
    private final Map<String, Object> named = new LinkedHashMap<>();
    private int used;

    Arguments(String method, Object[] params) {
      this.method = method;
      for (Object param : params) {
        if (param instanceof NamedParameter parameter) {
          named.put(parameter.getName(), parameter.getValue());
        } else {
          positional.add(param);
        }
      }
    }

    Object optional(int index, String name) {
      if (index < positional.size()) {
        used++;
        return positional.get(index);
      }
      if (named.containsKey(name)) {
        used++;
        return named.get(name);
      }
      return null;
    }

    Object required(int index, String name) {
      if (index >= positional.size() && !named.containsKey(name)) {
        throw new ELException(method + "() is missing its argument '" + name + "'");
      }
      return optional(index, name);
    }

    String optionalString(int index, String name) {
      Object value = optional(index, name);
      if (value != null && !(value instanceof String)) {
        throw new ELException(
            method + "() expects a string '" + name + "', found " + describe(value));
      }
      return (String) value;
    }

    String requiredString(int index, String name) {
      Object value = required(index, name);
      if (!(value instanceof String text)) {
        throw new ELException(
            method + "() expects a string '" + name + "', found " + describe(value));
      }
      return text;
    }

    long optionalLong(int index, String name, long fallback) {
      Object value = optional(index, name);
      if (value == null) {
        return fallback;
      }
      if (!(value instanceof Long || value instanceof Integer)) {
        throw new ELException(
            method + "() expects an integer '" + name + "', found " + describe(value));
      }
      return ((Number) value).longValue();
    }

    void checkAllUsed() {
      if (used != positional.size() + named.size()) {
        throw new ELException(
            method
                + "() got unexpected arguments: "
                + positional.size()
                + " positional, "
                + named.keySet());
      }
    }
  }
}
