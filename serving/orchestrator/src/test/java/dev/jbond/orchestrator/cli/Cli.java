package dev.jbond.orchestrator.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

/** Test helper: runs the {@code bond} command line in process and captures what it prints. */
final class Cli {
  private Cli() {}

  /** What a command returned and printed. */
  record Result(int code, String out, String err) {}

  /** Runs {@code bond args...} in a fresh application context. */
  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = BondCommand.execute(args, new PrintWriter(out), new PrintWriter(err));
    return new Result(code, out.toString(), err.toString());
  }

  /** Runs {@code bond args...}, printing to the given writers. */
  static int run(StringWriter out, StringWriter err, String... args) {
    return BondCommand.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
  }
}
