package dev.jbond.models.triton;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.models.triton.TritonModelConfig.TensorSpec;
import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.graph.TensorType;
import dev.jbond.onnx.graph.Value;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TritonRepositoryTest {
  private static final TritonModelConfig REWARD =
      new TritonModelConfig(
          "reward",
          TritonModelConfig.ONNX_BACKEND,
          8,
          List.of(TensorSpec.of("input_ids", "TYPE_INT64", -1)),
          List.of(TensorSpec.of("score", "TYPE_FP32", 1)),
          true,
          Map.of("b", "2", "a", "1"));

  @Test
  void toPbtxt_allFields_writesProtobufText() {
    assertEquals(
        "name: \"reward\"\n"
            + "backend: \"onnxruntime\"\n"
            + "max_batch_size: 8\n"
            + "input [\n  {\n    name: \"input_ids\"\n    data_type: TYPE_INT64\n    dims: [ -1 ]\n  }\n]\n"
            + "output [\n  {\n    name: \"score\"\n    data_type: TYPE_FP32\n    dims: [ 1 ]\n  }\n]\n"
            + "dynamic_batching { }\n"
            + "parameters {\n  key: \"a\"\n  value { string_value: \"1\" }\n}\n"
            + "parameters {\n  key: \"b\"\n  value { string_value: \"2\" }\n}\n",
        REWARD.toPbtxt());
  }

  @Test
  void writeOnnxModel_externalData_copiesModelDataAndConfig(@TempDir Path tmp) throws Exception {
    Graph g = Graph.create("big", 17);
    Value x = g.addInput("x", TensorType.of(ElementType.FLOAT, 4));
    Value w = g.addInitializer("w", Tensor.floats(new long[] {4}, new float[4]));
    g.addOutput(g.ops().add(x, w));
    Path source = tmp.resolve("src").resolve("m.onnx");
    Files.createDirectories(source.getParent());
    g.save(source, 0);
    List<String> sourceFiles;
    try (var files = Files.list(source.getParent())) {
      sourceFiles = files.map(p -> p.getFileName().toString()).sorted().toList();
    }
    assertEquals(2, sourceFiles.size(), sourceFiles.toString());

    Path repo = tmp.resolve("repo");
    Path version = TritonRepository.writeOnnxModel(repo, "reward", 3, source, REWARD);

    assertEquals(repo.resolve("reward").resolve("3"), version);
    assertTrue(Files.exists(version.resolve("model.onnx")));
    String data = sourceFiles.get(0).equals("m.onnx") ? sourceFiles.get(1) : sourceFiles.get(0);
    assertTrue(Files.exists(version.resolve(data)), data);
    assertEquals(
        REWARD.toPbtxt(), Files.readString(repo.resolve("reward").resolve("config.pbtxt")));
  }

  @Test
  void writeOnnxModel_nameDiffersFromConfig_fails(@TempDir Path tmp) {
    assertEquals(
        "Expected config name 'rm' (the directory name), found 'reward'",
        assertThrows(
                IllegalArgumentException.class,
                () -> TritonRepository.writeOnnxModel(tmp, "rm", 1, tmp.resolve("x.onnx"), REWARD))
            .getMessage());
  }

  @Test
  void tensorSpec_badDataType_fails() {
    assertEquals(
        "Expected a Triton data type like TYPE_FP32 for tensor 'x', found 'FLOAT'",
        assertThrows(IllegalArgumentException.class, () -> TensorSpec.of("x", "FLOAT", 1))
            .getMessage());
  }
}
