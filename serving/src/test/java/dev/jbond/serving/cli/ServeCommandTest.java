package dev.jbond.serving.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code bond serve}'s options and its error for a missing repository. */
class ServeCommandTest {
  @TempDir Path dir;

  private static String[] run(String... args) {
    CommandLine cl = BondCommand.newCommandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int code = cl.execute(args);
    return new String[] {Integer.toString(code), out.toString(), err.toString()};
  }

  @Test
  void serve_missingRepository_printsOneLineAndExits2() {
    Path missing = dir.resolve("models");

    String[] result = run("serve", "--models", missing.toString(), "--port", "0");

    assertEquals("2", result[0]);
    assertEquals(
        "bond: Expected a model repository directory at "
            + missing.toAbsolutePath()
            + ", found none (pass --models DIR; the layout is <model>/config.pbtxt and"
            + " <model>/<version>/model.onnx)",
        result[2].strip());
  }

  @Test
  void bond_help_listsServe_andServeHelpShowsTheDefaults() {
    String[] top = run("--help");
    String[] serve = run("serve", "--help");

    assertTrue(top[1].contains("serve"), top[1]);
    assertTrue(serve[1].contains("default: 8001"), serve[1]);
    assertTrue(serve[1].contains("default: models" + java.io.File.separator + "demo"), serve[1]);
  }
}
