package dev.jbond.models.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import java.util.Map;

/**
 * Jinja's {@code trim(value, chars=None)} filter: Python's {@code str.strip(chars)}, which strips
 * Unicode whitespace such as U+00A0 and U+3000 (Jinjava's own {@code trim} strips only characters
 * up to U+0020). An undefined value or None gives the empty string.
 */
final class TrimFilter extends KeywordFilter {
  @Override
  public String getName() {
    return "trim";
  }

  @Override
  public Object filter(
      Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
    Object chars = args.length > 0 ? args[0] : kwargs.get("chars");
    String text = var == null ? "" : var.toString();
    return PythonStrings.strip(text, chars == null ? null : chars.toString(), true, true);
  }
}
