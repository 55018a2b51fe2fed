package dev.jbond.onnx.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.onnx.ModelLoadException;
import dev.jbond.onnx.proto.ModelProto;
import dev.jbond.onnx.proto.StringStringEntryProto;
import dev.jbond.onnx.proto.TensorProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFilesTest {
  @TempDir Path dir;

  private static Graph modelWithWeights() {
    Random random = new Random(3);
    Graph g = Graph.create("weights", 17);
    Value x = g.addInput("x", TensorType.of(ElementType.FLOAT, 1, 40));
    float[] big = new float[40 * 30];
    for (int i = 0; i < big.length; i++) {
      big[i] = random.nextFloat();
    }
    Value w1 = g.addInitializer("w1", Tensor.floats(new long[] {40, 30}, big));
    Value b1 = g.addInitializer("b1", Tensor.floats(new long[] {3}, 1, 2, 3));
    float[] other = new float[300];
    Value w2 = g.addInitializer("w2", Tensor.floats(new long[] {other.length}, other));
    g.addOutput(g.ops().matMul(x, w1));
    g.addOutput(g.ops().add(b1, b1));
    g.addOutput(g.ops().neg(w2));
    return g;
  }

  @Test
  void save_withThreshold_writesAlignedSideFileAndLoadsBack() throws Exception {
    Graph g = modelWithWeights();
    Path model = dir.resolve("m.onnx");

    g.save(model, 1024);

    Path data = dir.resolve("m.onnx.data");
    assertTrue(Files.isRegularFile(data));
    ModelProto stored = ModelFiles.parse(model);
    Map<String, Map<String, String>> external = new HashMap<>();
    for (TensorProto t : stored.getGraph().getInitializerList()) {
      if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
        Map<String, String> entries = new HashMap<>();
        for (StringStringEntryProto e : t.getExternalDataList()) {
          entries.put(e.getKey(), e.getValue());
        }
        external.put(t.getName(), entries);
        assertFalse(t.hasRawData());
      }
    }
    assertEquals(
        Map.of("location", "m.onnx.data", "offset", "0", "length", "4800"), external.get("w1"));
    assertEquals(
        Map.of("location", "m.onnx.data", "offset", "4800", "length", "1200"), external.get("w2"));
    assertFalse(external.containsKey("b1"));
    assertEquals(0, 4800 % ModelFiles.ALIGNMENT);
    assertEquals(4800 + 1200, Files.size(data));
    assertTrue(Files.size(model) < 1024);

    Graph back = Graph.load(model);

    assertEquals(g.initializers(), back.initializers());
    assertArrayEquals(g.toBytes(), back.toBytes());
  }

  @Test
  void save_secondTensorOffset_isMultipleOf64() throws Exception {
    Graph g = Graph.create("g", 17);
    g.addInitializer("a", Tensor.zeros(ElementType.FLOAT, 257));
    g.addInitializer("b", Tensor.zeros(ElementType.FLOAT, 300));
    g.addOutput(g.value("a"));
    g.addOutput(g.value("b"));
    Path model = dir.resolve("g.onnx");

    g.save(model, 0);

    TensorProto b = ModelFiles.parse(model).getGraph().getInitializer(1);
    assertEquals("offset", b.getExternalData(1).getKey());
    assertEquals("1088", b.getExternalData(1).getValue());
    assertEquals(
        Tensor.zeros(ElementType.FLOAT, 300), Graph.load(model).initializer("b").orElseThrow());
  }

  @Test
  void save_inline_roundTripsWithoutSideFile() throws Exception {
    Graph g = modelWithWeights();
    Path model = dir.resolve("inline.onnx");

    g.save(model);

    assertFalse(Files.exists(dir.resolve("inline.onnx.data")));
    assertArrayEquals(g.toBytes(), Files.readAllBytes(model));
  }

  @Test
  void load_missingExternalDataFile_failsNamingPath() throws Exception {
    Graph g = modelWithWeights();
    Path model = dir.resolve("m.onnx");
    g.save(model, 1024);
    Path data = dir.resolve("m.onnx.data");
    Files.delete(data);

    ModelLoadException e = assertThrows(ModelLoadException.class, () -> Graph.load(model));

    assertEquals(
        "External data file '" + data.toAbsolutePath() + "' of tensor 'w1' does not exist",
        e.getMessage());
  }

  @Test
  void load_truncatedExternalData_failsWithRange() throws Exception {
    Graph g = modelWithWeights();
    Path model = dir.resolve("m.onnx");
    g.save(model, 1024);
    Path data = dir.resolve("m.onnx.data");
    Files.write(data, new byte[5000]);

    ModelLoadException e = assertThrows(ModelLoadException.class, () -> Graph.load(model));

    assertEquals(
        "Expected bytes [4800, 6000) of external data file '"
            + data.toAbsolutePath()
            + "' for tensor 'w2', found a file of 5000 bytes",
        e.getMessage());
  }

  @Test
  void load_locationOutsideModelDirectory_fails() throws Exception {
    Graph g = modelWithWeights();
    ModelProto model = g.toModel();
    TensorProto escaped =
        model.getGraph().getInitializer(0).toBuilder()
            .clearRawData()
            .setDataLocation(TensorProto.DataLocation.EXTERNAL)
            .addExternalData(
                StringStringEntryProto.newBuilder().setKey("location").setValue("../secret.bin"))
            .build();
    Path file = dir.resolve("escape.onnx");
    ModelFiles.write(
        model.toBuilder().setGraph(model.getGraph().toBuilder().setInitializer(0, escaped)).build(),
        file);

    ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelFiles.read(file));

    assertEquals(
        "Expected the external data of tensor 'w1' inside the model directory '"
            + dir.toAbsolutePath()
            + "', found location '../secret.bin'",
        e.getMessage());
  }

  @Test
  void parse_notAModel_failsWithModelLoadException() throws Exception {
    Path file = dir.resolve("junk.onnx");
    Files.write(file, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff});

    ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelFiles.parse(file));

    assertTrue(
        e.getMessage().startsWith("Expected an ONNX model in '" + file.toAbsolutePath() + "'"),
        e.getMessage());
  }
}
