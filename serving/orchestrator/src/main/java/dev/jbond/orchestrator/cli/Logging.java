package dev.jbond.orchestrator.cli;

/**
 * The command line's log level: WARN, or INFO with {@code --verbose}. Logback reads the level from
 * the {@code jbond.log.level} system property in {@code logback.xml}; this sets it before Logback
 * starts (it starts with the application context), unless the user set it.
 */
final class Logging {
  static final String LEVEL_PROPERTY = "jbond.log.level";

  private Logging() {}

  static void configure(boolean verbose) {
    if (System.getProperty(LEVEL_PROPERTY) == null) {
      System.setProperty(LEVEL_PROPERTY, verbose ? "INFO" : "WARN");
    }
  }
}
