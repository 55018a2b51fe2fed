package dev.jbond.models.decoder;

import dev.jbond.internal.Json;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.proto.ModelProto;
import dev.jbond.onnx.testing.TorchFixtures;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Reads onnx-training's torch fixtures (see {@link TorchFixtures}) as class-path streams. {@link
 * TorchFixtures} itself turns resource URLs into {@code Path}s, which fails when the fixtures come
 * from onnx-training's test-jar, as they do here.
 */
final class TorchFixtureResources {
  private TorchFixtureResources() {}

  /** The torch export at {@code opset} (14 or 17); its data is inline. */
  static Graph model(int opset) throws IOException {
    try (InputStream in = open("gpt2_tiny_opset" + opset + ".onnx")) {
      return Graph.fromModel(ModelProto.parseFrom(in));
    }
  }

  /** Torch's reference batch and logits. */
  static TorchFixtures.Reference reference() throws IOException {
    Map<String, Object> json;
    try (InputStream in = open("gpt2_tiny_reference.json")) {
      json = Json.parseObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
    long[] shape =
        ((List<?>) json.get("logits_shape"))
            .stream().mapToLong(v -> ((Number) v).longValue()).toArray();
    List<?> values = (List<?>) json.get("logits");
    float[] logits = new float[values.size()];
    for (int i = 0; i < logits.length; i++) {
      logits[i] = (float) ((Number) values.get(i)).doubleValue();
    }
    return new TorchFixtures.Reference(
        longMatrix(json.get("input_ids")),
        longMatrix(json.get("attention_mask")),
        Tensor.floats(shape, logits));
  }

  private static Tensor longMatrix(Object json) {
    List<?> rows = (List<?>) json;
    int cols = ((List<?>) rows.get(0)).size();
    long[] values = new long[rows.size() * cols];
    for (int r = 0; r < rows.size(); r++) {
      List<?> row = (List<?>) rows.get(r);
      for (int c = 0; c < cols; c++) {
        values[r * cols + c] = ((Number) row.get(c)).longValue();
      }
    }
    return Tensor.longs(new long[] {rows.size(), cols}, values);
  }

  private static InputStream open(String name) {
    InputStream in = TorchFixtures.class.getResourceAsStream("/fixtures/" + name);
    if (in == null) {
      throw new IllegalStateException("Missing test resource /fixtures/" + name);
    }
    return in;
  }
}
