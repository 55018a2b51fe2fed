package dev.jbond.models.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;
import java.util.Map;

/**
 * A filter that reads positional and keyword arguments as Python's would: Jinjava's string-only
 * entry point passes its arguments on as positional ones without keywords.
 */
abstract class KeywordFilter implements Filter {
  @Override
  public final Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
    return filter(var, interpreter, (Object[]) args, Map.of());
  }

  @Override
  public abstract Object filter(
      Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs);
}
