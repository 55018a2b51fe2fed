package dev.jbond.onnx.testing;

import dev.jbond.internal.Json;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.proto.ModelProto;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The fixtures written by {@code src/test/resources/fixtures/make_torch_fixtures.py}: a 2-layer
 * GPT-2-style decoder (V=64, d=32, 4 heads) exported by torch 1.13 at opsets 14 and 17, and torch's
 * own logits on a fixed batch, and PyTorch's losses over ten AdamW steps on that model.
 */
public final class TorchFixtures {
  /** The opsets the model was exported at. */
  public static final List<Integer> OPSETS = List.of(14, 17);

  private TorchFixtures() {}

  /**
   * Returns the path of the export at {@code opset}.
   *
   * @param opset 14 or 17
   * @return the {@code .onnx} file
   */
  public static Path model(int opset) {
    return resource("gpt2_tiny_opset" + opset + ".onnx");
  }

  /**
   * Returns the export at {@code opset} as a graph, read from the class path (works from the
   * test-jar too, where {@link #model(int)} has no file path).
   *
   * @param opset 14 or 17
   * @return the graph
   */
  public static Graph graph(int opset) {
    try (InputStream in = open("gpt2_tiny_opset" + opset + ".onnx")) {
      return Graph.fromModel(ModelProto.parseFrom(in));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Returns torch's reference batch and logits.
   *
   * @return the reference
   */
  public static Reference reference() {
    try (InputStream in = open("gpt2_tiny_reference.json")) {
      Map<String, Object> json =
          Json.parseObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      Tensor ids = longMatrix(json.get("input_ids"));
      Tensor mask = longMatrix(json.get("attention_mask"));
      long[] shape =
          ((List<?>) json.get("logits_shape"))
              .stream().mapToLong(v -> ((Number) v).longValue()).toArray();
      List<?> values = (List<?>) json.get("logits");
      float[] logits = new float[values.size()];
      for (int i = 0; i < logits.length; i++) {
        logits[i] = (float) ((Number) values.get(i)).doubleValue();
      }
      return new Reference(ids, mask, Tensor.floats(shape, logits));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Returns PyTorch's ten AdamW steps on the fixture model, written by {@code
   * make_torch_training_reference.py}: the settings ({@code learning_rate}, {@code betas}, {@code
   * epsilon}, {@code weight_decay}, {@code max_gradient_norm}, {@code warmup_steps}), the {@code
   * sequences} ({@code prompt}, {@code completion}, {@code weight}), and per step the {@code
   * losses} before the update and the {@code gradient_norms} before clipping.
   *
   * @return the parsed JSON object
   */
  public static Map<String, Object> trainingReference() {
    try (InputStream in = open("gpt2_tiny_training_reference.json")) {
      return Json.parseObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
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

  private static Path resource(String name) {
    URL url = TorchFixtures.class.getResource("/fixtures/" + name);
    if (url == null) {
      throw new IllegalStateException("Missing test resource /fixtures/" + name);
    }
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Torch's logits on a fixed batch.
   *
   * @param inputIds INT64 [2, 7]
   * @param attentionMask INT64 [2, 7], with padding in the second row
   * @param logits FLOAT [2, 7, 64]
   */
  public record Reference(Tensor inputIds, Tensor attentionMask, Tensor logits) {}
}
