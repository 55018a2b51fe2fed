package dev.jbond.orchestrator.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.serving.TensorProfile;
import dev.jbond.serving.TrtLlmModelConfig;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bond serve}'s options and its error for a missing repository. */
class ServeCommandTest {
  @TempDir Path dir;

  private static String[] run(String... args) {
    Cli.Result r = Cli.run(args);
    return new String[] {Integer.toString(r.code()), r.out(), r.err()};
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
  void serve_negativeThreads_printsOneLineAndExits2() throws Exception {
    Files.createDirectories(dir.resolve("models"));

    String[] result =
        run(
            "serve",
            "--models",
            dir.resolve("models").toString(),
            "--port",
            "0",
            "--threads",
            "-1");

    assertEquals("2", result[0]);
    assertEquals("bond: Expected --threads >= 0, found -1", result[2].strip());
  }

  @Test
  void serve_generationModel_servesItReady() throws Exception {
    Path repo = dir.resolve("repo");
    TrtLlmModelConfig.write(
        repo,
        TrtLlmModelConfig.config("jbond-policy", 8, false, TensorProfile.trtLlm()),
        1,
        DecoderWeights.initialize(
            DecoderConfig.builder()
                .setVocabSize(16)
                .setContextLength(8)
                .setLayers(1)
                .setWidth(8)
                .setHeads(2)
                .setSeed(1)
                .build()),
        OptionalInt.empty(),
        OptionalInt.empty());
    StringWriter out = new StringWriter();
    Thread serve =
        new Thread(
            () ->
                Cli.run(
                    out,
                    new StringWriter(),
                    "serve",
                    "--models",
                    repo.toString(),
                    "--port",
                    "0",
                    "--threads",
                    "1",
                    "--no-spin"));
    serve.start();
    try {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (!out.toString().contains("Serving Triton gRPC")) {
        assertTrue(System.nanoTime() < end, "Expected the server to start, output: " + out);
        Thread.sleep(10);
      }
      assertTrue(out.toString().contains("jbond-policy version 1: READY"), out.toString());
      assertTrue(
          out.toString().contains("ONNX Runtime: 1 intra-op threads per model, not spinning"),
          out.toString());
    } finally {
      serve.interrupt();
      serve.join(TimeUnit.SECONDS.toMillis(10));
    }
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
