package dev.jbond.serving.embedded;

import dev.jbond.onnx.graph.Dim;
import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Ops;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.graph.TensorType;
import dev.jbond.onnx.graph.Value;
import dev.jbond.onnx.ort.OrtModelSession;
import dev.jbond.onnx.ort.OrtSessions;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.serving.triton.TritonTensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Test-only: tiny reward-model-like ONNX graphs and model repositories.
 *
 * <p>The reward graph maps int64 token ids {@code input_ids [B, T]} to one float score per
 * sequence, {@code score [B, 1]}: embed each token ({@code Gather} from a seeded {@code [V, D]}
 * table), average over the sequence, project to one value and apply {@code Tanh}. Every operation
 * acts on rows independently, so a batch's scores equal the rows' scores computed one by one.
 */
final class TestModels {
  static final int VOCAB = 64;
  static final int WIDTH = 16;
  static final SessionConfig SESSION = SessionConfig.builder().optIntraOpThreads(1).build();

  /** The config of the reward model, batching up to 8 with a 1 ms queue delay. */
  static final String REWARD_CONFIG =
      """
      name: "rm"
      max_batch_size: 8
      input { name: "input_ids" data_type: TYPE_INT64 dims: [ -1 ] }
      output { name: "score" data_type: TYPE_FP32 dims: [ 1 ] }
      dynamic_batching { max_queue_delay_microseconds: 1000 }
      """;

  private TestModels() {}

  /** The reward graph with weights drawn from {@code seed}. */
  static Graph reward(long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    Graph g = Graph.create("reward", 17);
    Ops ops = g.ops();
    Value ids =
        g.addInput(
            "input_ids",
            TensorType.of(ElementType.INT64, Dim.symbolic("batch"), Dim.symbolic("seq")));
    Value table =
        g.addInitializer(
            "embedding", Tensor.floats(new long[] {VOCAB, WIDTH}, floats(random, VOCAB * WIDTH)));
    Value head =
        g.addInitializer("head", Tensor.floats(new long[] {WIDTH, 1}, floats(random, WIDTH)));
    Value mean = ops.reduceMean(ops.gather(table, ids, 0), false, 1);
    Value score = ops.tanh(ops.matMul(mean, head));
    g.addOutput(
        g.node("Identity").input(score).output("score"),
        TensorType.of(ElementType.FLOAT, Dim.symbolic("batch"), Dim.of(1)));
    return g;
  }

  private static float[] floats(SplittableRandom random, int n) {
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = (float) (random.nextDouble() * 2 - 1);
    }
    return values;
  }

  /** Seeded token ids, {@code rows x length}, row-major. */
  static long[] tokens(SplittableRandom random, int rows, int length) {
    long[] ids = new long[rows * length];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = random.nextInt(VOCAB);
    }
    return ids;
  }

  /** The {@code input_ids} tensor. */
  static TritonTensor ids(int rows, int length, long[] ids) {
    return TritonTensor.ofInt64("input_ids", new long[] {rows, length}, ids);
  }

  /** The scores of {@code graph} computed directly with ONNX Runtime. */
  static float[] directScores(Graph graph, int rows, int length, long[] ids) {
    try (OrtModelSession session = OrtSessions.open(graph, SESSION)) {
      Map<String, Tensor> out =
          session.run(Map.of("input_ids", Tensor.longs(new long[] {rows, length}, ids)));
      return out.get("score").toFloatArray();
    }
  }

  /** Writes {@code <repo>/<model>/<version>/model.onnx} and, unless null, the config. */
  static Path writeModel(Path repo, String model, long version, Graph graph, String config)
      throws IOException {
    Path dir = repo.resolve(model);
    Files.createDirectories(dir.resolve(Long.toString(version)));
    graph.save(dir.resolve(Long.toString(version)).resolve("model.onnx"));
    if (config != null) {
      Files.writeString(dir.resolve(ModelRepository.CONFIG_FILE), config, StandardCharsets.UTF_8);
    }
    return dir;
  }
}
