package dev.jbond.models.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.onnx.ort.OrtModelSession;
import dev.jbond.onnx.ort.OrtSessions;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.onnx.testing.TorchFixtures;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FullSequenceSamplerTest {
  /** The torch fixture's architecture (make_torch_fixtures.py): V=64, C=16, 2 layers, d=32. */
  private static final DecoderConfig TORCH_GPT2 =
      DecoderConfig.builder()
          .setVocabSize(64)
          .setContextLength(16)
          .setLayers(2)
          .setWidth(32)
          .setHeads(4)
          .setSeed(0)
          .build();

  @ParameterizedTest(name = "opset {0}")
  @ValueSource(ints = {14, 17})
  void sample_torchExportedGpt2_firstTokenLogProbsMatchTorchLogits(int opset) {
    TorchFixtures.Reference reference = TorchFixtures.reference();
    long[] ids = reference.inputIds().toLongArray();
    float[] logits = reference.logits().toFloatArray();
    int width = 7;
    int vocab = 64;
    // row 0 has 7 real tokens, row 1 five (torch's mask pads it on the right)
    Prompt first = new Prompt("r0", tokens(ids, 0, 7));
    Prompt second = new Prompt("r1", tokens(ids, width, 5));
    SamplingConfig config = SamplingConfig.builder().setMaxNewTokens(1).build();

    List<SampledSequence> samples;
    try (OrtModelSession session =
        OrtSessions.open(TorchFixtures.graph(opset), SessionConfig.defaults())) {
      samples =
          new FullSequenceSampler(session, TORCH_GPT2)
              .sample(List.of(first, second), 8, config, 17);
    }

    double max = 0;
    for (SampledSequence s : samples) {
      int row = s.prompt().id().equals("r0") ? 0 : 1;
      int last = s.prompt().tokens().length() - 1;
      double[] torch = new double[vocab];
      for (int v = 0; v < vocab; v++) {
        torch[v] = logits[(row * width + last) * vocab + v];
      }
      double expected = GenerateFixtures.logSoftmax(torch)[s.completion().get(0)];
      max = Math.max(max, Math.abs(s.samplingLogProbs().get(0) - expected));
      assertEquals(StopReason.LENGTH, s.stopReason());
    }
    assertTrue(max < 1e-4, "log-probs differ from torch's by " + max);
  }

  private static TokenSequence tokens(long[] ids, int from, int count) {
    int[] out = new int[count];
    for (int i = 0; i < count; i++) {
      out[i] = Math.toIntExact(ids[from + i]);
    }
    return TokenSequence.of(out);
  }
}
