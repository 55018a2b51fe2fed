package dev.jbond.models.chat;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import java.time.Instant;
import java.time.ZonedDateTime;

/**
 * The global functions that Hugging Face passes to chat templates. Jinjava calls them as static
 * methods; the clock comes from the rendering interpreter's configuration, so each {@link
 * ChatTemplate} has its own.
 */
final class JinjaFunctions {
  private JinjaFunctions() {}

  /**
   * {@code raise_exception(message)}: stops the rendering with the template's message.
   *
   * @throws RaisedException always
   */
  static String raiseException(Object message) {
    throw new RaisedException(String.valueOf(message));
  }

  /** {@code strftime_now(format)}: the current local time, formatted as Python's strftime does. */
  static String strftimeNow(String format) {
    JinjavaInterpreter interpreter = JinjavaInterpreter.getCurrent();
    long millis = interpreter.getConfig().getDateTimeProvider().getCurrentTimeMillis();
    ZonedDateTime now =
        ZonedDateTime.ofInstant(
            Instant.ofEpochMilli(millis), interpreter.getConfig().getTimeZone());
    return Strftime.format(now, format);
  }

  /** What {@code raise_exception} throws; the message is the template's. */
  static final class RaisedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    RaisedException(String message) {
      super(message, null, false, false);
    }
  }
}
