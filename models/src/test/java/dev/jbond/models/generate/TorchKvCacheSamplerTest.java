package dev.jbond.models.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.internal.Json;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.ort.OrtModelSession;
import dev.jbond.onnx.ort.OrtSessions;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.onnx.testing.TorchFixtures;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link KvCacheSampler} on a GPT-2-style decoder exported from torch with past key/values
 * (onnx-training's fixtures/make_torch_decode_fixture.py: the same tiny GPT-2 as {@link
 * TorchFixtures}, V=64, C=16, 2 layers, d=32, 4 heads).
 */
class TorchKvCacheSamplerTest {
  private static final String DECODE = "gpt2_tiny_decode_opset17.onnx";
  private static final int VOCAB = 64;
  private static final int CONTEXT = 16;

  /** The torch fixture's architecture, for the full-sequence sampler. */
  private static final DecoderConfig TORCH_GPT2 =
      DecoderConfig.builder()
          .setVocabSize(VOCAB)
          .setContextLength(CONTEXT)
          .setLayers(2)
          .setWidth(32)
          .setHeads(4)
          .setSeed(0)
          .build();

  private static OrtModelSession decode;
  private static OrtModelSession full;

  @BeforeAll
  static void open() {
    decode = OrtSessions.open(bytes(DECODE), DECODE, SessionConfig.defaults());
    full = OrtSessions.open(TorchFixtures.graph(17), SessionConfig.defaults());
  }

  @AfterAll
  static void close() {
    decode.close();
    full.close();
  }

  @Test
  void read_torchDecodeGraph_sizesFromMetadata() {
    DecodeGraphSpec spec = DecodeGraphSpec.read(decode, CONTEXT);

    assertEquals(new DecodeGraphSpec(VOCAB, CONTEXT, 2, 4, 8), spec);
    assertEquals(DecodeGraphSpec.of(TORCH_GPT2), spec);
  }

  @Test
  @SuppressWarnings("unchecked")
  void run_torchDecodeGraph_prefillAndCachedStepsMatchTorch() {
    Map<String, Object> json =
        Json.parseObject(
            new String(bytes("gpt2_tiny_decode_reference.json"), StandardCharsets.UTF_8));
    List<Map<String, Object>> calls = (List<Map<String, Object>>) json.get("calls");
    Map<String, Tensor> present = null;
    double max = 0;
    for (int k = 0; k < calls.size(); k++) {
      Map<String, Object> call = calls.get(k);
      Map<String, Tensor> feed = new HashMap<>();
      feed.put("input_ids", longMatrix(call.get("input_ids")));
      feed.put("attention_mask", longMatrix(call.get("attention_mask")));
      feed.put("position_ids", longMatrix(call.get("position_ids")));
      for (int i = 0; i < 2; i++) {
        for (String part : List.of("key", "value")) {
          String past = "past_key_values." + i + "." + part;
          feed.put(
              past,
              k == 0
                  ? Tensor.floats(new long[] {2, 4, 0, 8}, new float[0])
                  : present.get("present." + i + "." + part));
        }
      }
      present = decode.run(feed);
      float[] logits = present.get("logits").toFloatArray();
      List<?> expected = (List<?>) call.get("logits");
      assertEquals(expected.size(), logits.length, "call " + k);
      for (int i = 0; i < logits.length; i++) {
        max = Math.max(max, Math.abs(logits[i] - ((Number) expected.get(i)).doubleValue()));
      }
    }
    System.out.println("torch decode graph: max |ORT - torch| logits over 4 calls = " + max);
    assertTrue(max < 1e-4, "logits differ from torch's by " + max);
  }

  @Test
  void sample_torchDecodeGraph_firstAndCachedLogProbsMatchTorch() {
    // the reference's rows and tokens: the sampler left-pads row 1 exactly like the reference
    Prompt first = new Prompt("r0", TokenSequence.of(5, 17, 33, 2));
    Prompt second = new Prompt("r1", TokenSequence.of(12, 9, 50));
    SamplingConfig config = SamplingConfig.builder().setMaxNewTokens(4).optPadTokenId(0).build();
    KvCacheSampler sampler = KvCacheSampler.forDecodeGraph(decode, CONTEXT, 64);

    List<SampledSequence> samples = sampler.sample(List.of(first, second), 3, config, 5);

    // the first token against torch's own prefill logits (reference call 0, slot 3 of each row)
    Map<String, Object> json =
        Json.parseObject(
            new String(bytes("gpt2_tiny_decode_reference.json"), StandardCharsets.UTF_8));
    List<?> prefill = (List<?>) ((Map<?, ?>) ((List<?>) json.get("calls")).get(0)).get("logits");
    double firstMax = 0;
    for (SampledSequence s : samples) {
      int row = s.prompt().id().equals("r0") ? 0 : 1;
      double[] torch = new double[VOCAB];
      for (int v = 0; v < VOCAB; v++) {
        torch[v] = ((Number) prefill.get((row * 4 + 3) * VOCAB + v)).doubleValue();
      }
      double expected = GenerateFixtures.logSoftmax(torch)[s.completion().get(0)];
      firstMax = Math.max(firstMax, Math.abs(s.modelLogProbs().get(0) - expected));
    }
    double max = 0;
    for (SampledSequence s : samples) {
      double[][] logits = fullLogits(s);
      for (int k = 0; k < s.completion().length(); k++) {
        double expected = GenerateFixtures.logSoftmax(logits[k])[s.completion().get(k)];
        max = Math.max(max, Math.abs(s.modelLogProbs().get(k) - expected));
      }
    }
    System.out.println(
        "torch decode graph sampler: first token vs torch "
            + firstMax
            + ", all vs full graph "
            + max);
    assertTrue(firstMax < 1e-4, "first-token log-probs differ from torch's by " + firstMax);
    assertTrue(max < 1e-4, "log-probs differ from the full graph's by " + max);
  }

  @Test
  void forDecodeGraph_fullSequenceGraph_rejected() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> KvCacheSampler.forDecodeGraph(full, CONTEXT, 8));
    assertTrue(e.getMessage().contains("past_key_values.0.key"), e.getMessage());
  }

  @Test
  void sample_torchDecodeGraph_equalsFullSequenceSampler() {
    List<Prompt> prompts =
        List.of(
            new Prompt("a", TokenSequence.of(5, 17, 33, 2, 63)),
            new Prompt("b", TokenSequence.of(12, 9)),
            new Prompt("c", TokenSequence.of(41)));
    KvCacheSampler cached = KvCacheSampler.forDecodeGraph(decode, CONTEXT, 4);
    FullSequenceSampler recompute = new FullSequenceSampler(full, TORCH_GPT2);
    List<SamplingConfig> configs =
        List.of(
            SamplingConfig.builder().setMaxNewTokens(10).optTemperature(0).build(),
            SamplingConfig.builder().setMaxNewTokens(10).optEosTokenIds(7, 40).build(),
            SamplingConfig.builder().setMaxNewTokens(8).optTopK(10).optTopP(0.9).build());
    double max = 0;
    int tokens = 0;
    for (SamplingConfig config : configs) {
      for (long seed : new long[] {1, 2, 3}) {
        List<SampledSequence> a = cached.sample(prompts, 3, config, seed);
        List<SampledSequence> b = recompute.sample(prompts, 3, config, seed);
        assertEquals(b.size(), a.size());
        for (int i = 0; i < a.size(); i++) {
          assertEquals(b.get(i).completion(), a.get(i).completion(), config + " seed " + seed);
          assertEquals(b.get(i).stopReason(), a.get(i).stopReason());
          tokens += a.get(i).completion().length();
          for (int k = 0; k < a.get(i).completion().length(); k++) {
            max =
                Math.max(
                    max,
                    Math.abs(
                        a.get(i).samplingLogProbs().get(k) - b.get(i).samplingLogProbs().get(k)));
            max =
                Math.max(
                    max,
                    Math.abs(a.get(i).modelLogProbs().get(k) - b.get(i).modelLogProbs().get(k)));
          }
        }
      }
    }
    System.out.println(
        "torch decode graph vs full graph: "
            + tokens
            + " tokens equal, max |log-prob diff| = "
            + max);
    assertTrue(max < 1e-4, "log-probs differ by " + max);
  }

  /** The full graph's logits before each completion token of {@code s}. */
  private static double[][] fullLogits(SampledSequence s) {
    TokenSequence row = s.prompt().tokens().concat(s.completion());
    int width = row.length();
    long[] ids = new long[width];
    long[] mask = new long[width];
    for (int i = 0; i < width; i++) {
      ids[i] = row.get(i);
      mask[i] = 1;
    }
    Map<String, Tensor> feed = new HashMap<>();
    feed.put("input_ids", Tensor.longs(new long[] {1, width}, ids));
    feed.put("attention_mask", Tensor.longs(new long[] {1, width}, mask));
    float[] logits = full.run(feed).get("logits").toFloatArray();
    int p = s.prompt().tokens().length();
    double[][] out = new double[s.completion().length()][VOCAB];
    for (int k = 0; k < out.length; k++) {
      for (int v = 0; v < VOCAB; v++) {
        out[k][v] = logits[(p + k - 1) * VOCAB + v];
      }
    }
    return out;
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

  private static byte[] bytes(String name) {
    try (InputStream in = TorchFixtures.class.getResourceAsStream("/fixtures/" + name)) {
      if (in == null) {
        throw new IllegalStateException("Missing test resource /fixtures/" + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
