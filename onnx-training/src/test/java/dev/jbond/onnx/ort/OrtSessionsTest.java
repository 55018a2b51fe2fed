package dev.jbond.onnx.ort;

import static dev.jbond.testing.Fixtures.assertAllClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.jbond.BackendException;
import dev.jbond.onnx.ModelLoadException;
import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.ModelFiles;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.graph.TensorType;
import dev.jbond.onnx.graph.Value;
import dev.jbond.onnx.proto.ModelProto;
import dev.jbond.onnx.testing.TorchFixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class OrtSessionsTest {
  private static final SessionConfig CONFIG = SessionConfig.builder().optIntraOpThreads(1).build();

  @TempDir Path dir;

  private static Map<String, Tensor> referenceFeed(TorchFixtures.Reference reference) {
    return Map.of("input_ids", reference.inputIds(), "attention_mask", reference.attentionMask());
  }

  @ParameterizedTest
  @ValueSource(ints = {14, 17})
  void open_reserializedTorchExport_reproducesTorchLogits(int opset) throws Exception {
    TorchFixtures.Reference reference = TorchFixtures.reference();
    Graph graph =
        Graph.fromModel(ModelProto.parseFrom(Files.readAllBytes(TorchFixtures.model(opset))));

    try (OrtModelSession session = OrtSessions.open(graph, CONFIG)) {
      Tensor logits = session.run(referenceFeed(reference)).get("logits");

      assertEquals(reference.logits().type(), logits.type());
      assertAllClose(
          OrtModelSessionTest.toDoubles(logits.toFloatArray()),
          OrtModelSessionTest.toDoubles(reference.logits().toFloatArray()),
          1e-6,
          1e-5);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {14, 17})
  void open_torchExportRewrittenWithExternalData_reproducesTorchLogits(int opset) throws Exception {
    TorchFixtures.Reference reference = TorchFixtures.reference();
    Path model = dir.resolve("gpt2.onnx");
    Graph.load(TorchFixtures.model(opset)).save(model, 1024);
    assertTrue(Files.size(dir.resolve("gpt2.onnx.data")) > 100_000);

    try (OrtModelSession session = OrtSessions.open(model, CONFIG)) {
      Tensor logits = session.run(referenceFeed(reference)).get("logits");

      assertAllClose(
          OrtModelSessionTest.toDoubles(logits.toFloatArray()),
          OrtModelSessionTest.toDoubles(reference.logits().toFloatArray()),
          1e-6,
          1e-5);
    }
  }

  @Test
  void open_pathWithExternalData_matchesInlineGraph() throws Exception {
    Random random = new Random(5);
    float[] w = new float[12];
    float[] b = new float[4];
    for (int i = 0; i < 12; i++) {
      w[i] = random.nextFloat();
    }
    Graph graph = OrtModelSessionTest.linear(w, b);
    Path model = dir.resolve("linear.onnx");
    graph.save(model, 16);
    assertTrue(Files.isRegularFile(dir.resolve("linear.onnx.data")));
    Map<String, Tensor> feed = Map.of("x", Tensor.floats(new long[] {2, 3}, 1, 2, 3, 4, 5, 6));

    Map<String, Tensor> fromPath;
    Map<String, Tensor> inline;
    try (OrtModelSession session = OrtSessions.open(model, CONFIG)) {
      fromPath = session.run(feed);
    }
    try (OrtModelSession session = OrtSessions.open(graph, CONFIG)) {
      inline = session.run(feed);
    }

    assertEquals(inline, fromPath);
    float[] y = OrtModelSessionTest.linearReference(new float[] {1, 2, 3, 4, 5, 6}, w, b);
    double[] tanh = new double[y.length];
    for (int i = 0; i < y.length; i++) {
      tanh[i] = Math.tanh(y[i]);
    }
    assertAllClose(
        OrtModelSessionTest.toDoubles(fromPath.get("tanh").toFloatArray()), tanh, 1e-6, 1e-6);
  }

  @Test
  void open_missingFile_throwsModelLoadExceptionNamingPath() {
    Path missing = dir.resolve("absent.onnx");

    ModelLoadException e =
        assertThrows(ModelLoadException.class, () -> OrtSessions.open(missing, CONFIG));

    assertEquals("Model file '" + missing.toAbsolutePath() + "' does not exist", e.getMessage());
  }

  @Test
  void open_garbageBytes_throwsBackendExceptionWithCode() {
    BackendException e =
        assertThrows(
            BackendException.class,
            () -> OrtSessions.open(new byte[] {1, 2, 3, 4}, "junk", CONFIG));

    assertEquals(BackendException.Code.INVALID_ARGUMENT, e.code());
    assertTrue(
        e.getMessage().startsWith("Failed to create a session for model 'junk' on ONNX Runtime: "),
        e.getMessage());
    assertTrue(e.getCause() instanceof ai.onnxruntime.OrtException);
  }

  @Test
  void open_unknownOp_throwsBackendException() {
    Graph g = Graph.create("bad", 17);
    Value x = g.addInput("x", TensorType.of(ElementType.FLOAT, 2));
    g.addOutput(g.op("NoSuchOp", x));

    BackendException e = assertThrows(BackendException.class, () -> OrtSessions.open(g, CONFIG));

    assertEquals(BackendException.Code.INVALID_ARGUMENT, e.code());
    assertTrue(
        e.getMessage().startsWith("Failed to create a session for model 'bad' on ONNX Runtime: "),
        e.getMessage());
    assertTrue(e.getMessage().contains("No Op registered for NoSuchOp"), e.getMessage());
    assertEquals(1, e.getMessage().lines().count());
  }

  @Test
  void open_cudaOnCpuBuild_throwsUnavailable() {
    assumeFalse(OrtEnvironments.availableProviders().contains("CUDA"), "CUDA build present");
    SessionConfig cuda =
        SessionConfig.builder().optExecutionProvider(ExecutionProvider.CUDA).build();

    BackendException e =
        assertThrows(
            BackendException.class,
            () -> OrtSessions.open(OrtModelSessionTest.linear(new float[12], new float[4]), cuda));

    assertEquals(BackendException.Code.UNAVAILABLE, e.code());
    assertEquals(
        "Expected the CUDA execution provider for model 'linear', available: [CPU] (build with the"
            + " Maven profile 'cuda' for onnxruntime_gpu)",
        e.getMessage());
  }

  @Test
  void shared_environment_isOneInstanceWithCpu() {
    assertTrue(OrtEnvironments.isAvailable());
    assertTrue(OrtEnvironments.shared() == OrtEnvironments.shared());
    assertTrue(OrtEnvironments.availableProviders().contains("CPU"));
  }

  @Test
  void modelFilesWrite_inlineModel_opensFromPath() throws Exception {
    Path model = dir.resolve("plain.onnx");
    ModelFiles.write(OrtModelSessionTest.linear(new float[12], new float[4]).toModel(), model);

    try (OrtModelSession session = OrtSessions.open(model, CONFIG)) {
      assertEquals("plain.onnx", session.modelName());
      assertEquals(java.util.List.of("x"), session.inputNames());
    }
  }
}
