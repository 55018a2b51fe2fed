package dev.jbond.orchestrator.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jbond.orchestrator.cli.BondCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bond server}'s refusals: one line on stderr and exit 2. */
class ServerCommandTest {
  @TempDir Path dir;

  private record Result(int code, String out, String err) {}

  private static Result bond(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = BondCommand.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Result(code, out.toString(), err.toString());
  }

  @Test
  void nonLoopbackWithoutToken_isRefused() {
    Result r = bond("server", "--host", "0.0.0.0", "--runs", dir.toString());
    assertEquals(2, r.code());
    assertEquals(
        "bond: Expected a token (--token-file FILE or the JBOND_TOKEN environment variable) to"
            + " bind 0.0.0.0, found none (without one the server binds loopback only)\n",
        r.err());
  }

  @Test
  void unreadableOrEmptyTokenFiles_areRefused() throws Exception {
    Result missing =
        bond("server", "--token-file", dir.resolve("nope").toString(), "--runs", dir.toString());
    assertEquals(2, missing.code());
    assertEquals(
        "bond: Cannot read the token file "
            + dir.resolve("nope")
            + ": "
            + dir.resolve("nope")
            + "\n",
        missing.err());
    Path empty = Files.writeString(dir.resolve("empty"), "\n  \n");
    Result blank = bond("server", "--token-file", empty.toString(), "--runs", dir.toString());
    assertEquals(2, blank.code());
    assertEquals(
        "bond: Expected a token of printable ASCII characters on one line in the token file "
            + empty
            + ", found nothing\n",
        blank.err());
  }

  @Test
  void aPortInUse_isOneLine() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Result r =
          bond(
              "server",
              "--port",
              Integer.toString(taken.getLocalPort()),
              "--runs",
              dir.resolve("runs").toString());
      assertEquals(2, r.code(), r.err()); // the caller chose a taken port
      assertEquals(
          "bond: Expected to listen on 127.0.0.1:"
              + taken.getLocalPort()
              + ", found the port in use or the address not on this machine (Address already in"
              + " use)\n",
          r.err());
    }
  }

  @Test
  void badOptions_areUsageErrors() {
    assertEquals(2, bond("server", "--port", "70000").code());
    assertEquals(2, bond("server", "--max-concurrent-runs", "0").code());
  }
}
