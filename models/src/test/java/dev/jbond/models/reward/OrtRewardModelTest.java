package dev.jbond.models.reward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jbond.Generation;
import dev.jbond.ModelVersion;
import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.onnx.graph.Dim;
import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.TensorType;
import dev.jbond.onnx.graph.Value;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OrtRewardModelTest {
  private static final ModelVersion MODEL = new ModelVersion("test", 0);
  private static final TensorType IDS =
      TensorType.of(ElementType.INT64, Dim.symbolic("B"), Dim.symbolic("T"));

  /** score = sum_t mask * ids (cast to float), output of shape [B, width] (width 0: [B]). */
  private static Graph sumGraph(String idsName, String maskName, String outName, int width) {
    Graph g = Graph.create("sum_reward", 17);
    Value ids = g.addInput(idsName, IDS);
    Value mask = g.addInput(maskName, IDS);
    Value masked =
        g.ops().mul(g.ops().cast(ids, ElementType.FLOAT), g.ops().cast(mask, ElementType.FLOAT));
    Value sum = g.ops().reduceSum(masked, width > 0, 1);
    if (width > 1) {
      sum = g.ops().expand(sum, g.constantLongs(1, width));
    }
    Value out = g.node("Identity").input(sum).output(outName);
    g.addOutput(
        out,
        width > 0
            ? TensorType.of(ElementType.FLOAT, Dim.symbolic("B"), Dim.of(width))
            : TensorType.of(ElementType.FLOAT, Dim.symbolic("B")));
    return g;
  }

  private static Generation generation(int[] prompt, int... completion) {
    return Generation.of(
        new Prompt("p", TokenSequence.of(prompt)), TokenSequence.of(completion), MODEL);
  }

  @Test
  void score_rightPaddedBatch_matchesOneByOne() throws Exception {
    try (OrtRewardModel rm =
        OrtRewardModel.builder(sumGraph("input_ids", "attention_mask", "score", 1))
            .optPadTokenId(99)
            .optMaxBatchRows(2)
            .build()) {
      List<Generation> gs =
          List.of(
              generation(new int[] {1, 2}, 3),
              generation(new int[] {4}, 5, 6, 7),
              generation(new int[] {8}));
      assertArrayEquals(new double[] {6, 22, 8}, rm.score(gs), 0);
      assertArrayEquals(new double[] {22}, rm.score(gs.subList(1, 2)), 0);
    }
  }

  @Test
  void open_file_configurableNamesAndRankOneOutput(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("rm.onnx");
    sumGraph("tokens", "mask", "reward", 0).save(file);
    try (OrtRewardModel rm =
        OrtRewardModel.builder(file)
            .optInputIdsName("tokens")
            .optAttentionMaskName("mask")
            .optOutputName("reward")
            .build()) {
      assertArrayEquals(
          new double[] {10}, rm.score(List.of(generation(new int[] {1, 2}, 3, 4))), 0);
    }
  }

  @Test
  void build_outputNotOneScorePerSequence_failsNamingTheShape() {
    OrtRewardModel.Builder b =
        OrtRewardModel.builder(sumGraph("input_ids", "attention_mask", "score", 7));
    assertEquals(
        "Expected reward output 'score' of shape [B] or [B, 1] (or [B, labels] with reward.label"
            + " choosing the column), found [B, 7]",
        assertThrows(IllegalArgumentException.class, b::build).getMessage());
  }

  @Test
  void build_missingInputName_failsListingTheInputs() {
    OrtRewardModel.Builder b =
        OrtRewardModel.builder(sumGraph("tokens", "attention_mask", "score", 1));
    assertEquals(
        "Expected token-id input 'input_ids' in reward model 'sum_reward', found inputs"
            + " [tokens, attention_mask]",
        assertThrows(IllegalArgumentException.class, b::build).getMessage());
  }

  @Test
  void build_missingMaskAndOutputNames_fail() {
    Graph g = sumGraph("input_ids", "attention_mask", "score", 1);
    assertEquals(
        "Expected attention-mask input 'mask' in reward model 'sum_reward', found inputs"
            + " [input_ids, attention_mask]",
        assertThrows(
                IllegalArgumentException.class,
                () -> OrtRewardModel.builder(g).optAttentionMaskName("mask").build())
            .getMessage());
    assertEquals(
        "Expected reward output 'reward' in reward model 'sum_reward', found outputs [score]",
        assertThrows(
                IllegalArgumentException.class,
                () -> OrtRewardModel.builder(g).optOutputName("reward").build())
            .getMessage());
  }

  @Test
  void score_tokenOutsideVocabulary_failsNamingTheGeneration() throws Exception {
    try (OrtRewardModel rm =
        OrtRewardModel.builder(sumGraph("input_ids", "attention_mask", "score", 1))
            .optVocabularySize(10)
            .build()) {
      String message =
          assertThrows(
                  IllegalArgumentException.class,
                  () -> rm.score(List.of(generation(new int[] {1}, 12))))
              .getMessage();
      assertEquals(true, message.contains("generation 0 (prompt 'p')"), message);
    }
  }

  @Test
  void score_afterClose_failsAndCloseIsIdempotent() throws Exception {
    OrtRewardModel rm =
        OrtRewardModel.builder(sumGraph("input_ids", "attention_mask", "score", 1)).build();
    rm.close();
    rm.close();
    assertEquals(
        "OrtRewardModel is closed",
        assertThrows(
                IllegalStateException.class, () -> rm.score(List.of(generation(new int[] {1}))))
            .getMessage());
  }

  /** logits [B, 3] = [sum, 2 sum, -sum] of the masked ids: a sequence classifier's output. */
  private static Graph logitsGraph() {
    Graph g = Graph.create("logits_reward", 17);
    Value ids = g.addInput("input_ids", IDS);
    Value mask = g.addInput("attention_mask", IDS);
    Value masked =
        g.ops().mul(g.ops().cast(ids, ElementType.FLOAT), g.ops().cast(mask, ElementType.FLOAT));
    Value sum = g.ops().reduceSum(masked, true, 1);
    Value logits = g.ops().concat(1, sum, g.ops().mul(sum, g.constantFloat(2f)), g.ops().neg(sum));
    Value out = g.node("Identity").input(logits).output("logits");
    g.addOutput(out, TensorType.of(ElementType.FLOAT, Dim.symbolic("B"), Dim.of(3)));
    return g;
  }

  @Test
  void logits_theLabelChoosesTheColumn() throws Exception {
    List<Generation> gs = List.of(generation(new int[] {1, 2}, 3), generation(new int[] {4}, 5));
    for (int label = 0; label < 3; label++) {
      try (OrtRewardModel rm =
          OrtRewardModel.builder(logitsGraph()).optOutputName("logits").optLabel(label).build()) {
        double factor = new double[] {1, 2, -1}[label];
        assertArrayEquals(new double[] {6 * factor, 9 * factor}, rm.score(gs), 0, "label " + label);
      }
    }
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                OrtRewardModel.builder(logitsGraph()).optOutputName("logits").optLabel(3).build());
    assertEquals(
        "Expected reward.label in [0, 3) for output 'logits' of reward model 'logits_reward' (shape"
            + " [B, 3]), found 3",
        e.getMessage());
  }
}
