package dev.jbond.models.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.models.decoder.ModelDirectory;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SamplingConfigTest {
  @TempDir Path dir;

  @Test
  void build_onlyMaxNewTokens_samplesTheModelDistribution() {
    SamplingConfig config = SamplingConfig.builder().setMaxNewTokens(8).build();

    assertEquals(1.0, config.temperature());
    assertEquals(0, config.topK());
    assertEquals(1.0, config.topP());
    assertEquals(8, config.maxNewTokens());
    assertEquals(List.of(), config.eosTokenIds());
    assertEquals(0, config.padTokenId());
    assertFalse(config.isGreedy());
  }

  @Test
  void toBuilder_everySetting_roundTrips() {
    SamplingConfig config =
        SamplingConfig.builder()
            .setMaxNewTokens(3)
            .optTemperature(0)
            .optTopK(7)
            .optTopP(0.5)
            .optEosTokenIds(4, 9)
            .optPadTokenId(2)
            .build();

    assertEquals(config, config.toBuilder().build());
    assertTrue(config.isGreedy());
    assertTrue(config.isEos(9));
    assertFalse(config.isEos(2));
    assertEquals(
        "SamplingConfig[temperature=0.0, topK=7, topP=0.5, maxNewTokens=3, eosTokenIds=[4, 9],"
            + " padTokenId=2]",
        config.toString());
  }

  @Test
  void optSpecialTokens_modelDirectory_takesEosAndPad() {
    ModelDirectory model = GenerateFixtures.write(dir, 1);

    SamplingConfig config =
        SamplingConfig.builder().setMaxNewTokens(1).optSpecialTokens(model).build();

    assertEquals(List.of(GenerateFixtures.EOS), config.eosTokenIds());
    assertEquals(GenerateFixtures.PAD, config.padTokenId());
  }

  @Test
  void build_invalidSettings_failWithExpectedAndFound() {
    assertMessage(
        "Expected a finite temperature >= 0, found -0.5",
        () -> SamplingConfig.builder().setMaxNewTokens(1).optTemperature(-0.5).build());
    assertMessage(
        "Expected a finite temperature >= 0, found NaN",
        () -> SamplingConfig.builder().setMaxNewTokens(1).optTemperature(Double.NaN).build());
    assertMessage(
        "Expected topK >= 0 (0 = off), found -1",
        () -> SamplingConfig.builder().setMaxNewTokens(1).optTopK(-1).build());
    assertMessage(
        "Expected topP in (0, 1] (1 = off), found 0.0",
        () -> SamplingConfig.builder().setMaxNewTokens(1).optTopP(0).build());
    assertMessage(
        "Expected topP in (0, 1] (1 = off), found 1.5",
        () -> SamplingConfig.builder().setMaxNewTokens(1).optTopP(1.5).build());
    assertMessage(
        "Expected maxNewTokens >= 1, found 0",
        () -> SamplingConfig.builder().setMaxNewTokens(0).build());
    assertMessage(
        "Expected EOS token ids >= 0, found -3",
        () -> SamplingConfig.builder().setMaxNewTokens(1).optEosTokenIds(-3).build());
    assertMessage(
        "Expected distinct EOS token ids, found 5 twice",
        () -> SamplingConfig.builder().setMaxNewTokens(1).optEosTokenIds(5, 5).build());
    assertMessage(
        "Expected padTokenId >= 0, found -1",
        () -> SamplingConfig.builder().setMaxNewTokens(1).optPadTokenId(-1).build());
    assertEquals(
        "Expected maxNewTokens to be set (setMaxNewTokens), found none",
        assertThrows(IllegalStateException.class, () -> SamplingConfig.builder().build())
            .getMessage());
  }

  @Test
  void checkVocabulary_specialTokenOutside_namesIt() {
    SamplingConfig config =
        SamplingConfig.builder().setMaxNewTokens(1).optEosTokenIds(3).optPadTokenId(10).build();

    assertMessage(
        "Expected EOS token ids < vocabulary size 3, found 3", () -> config.checkVocabulary(3));
    assertMessage(
        "Expected padTokenId < vocabulary size 10, found 10", () -> config.checkVocabulary(10));
    config.checkVocabulary(11);
  }

  private static void assertMessage(String expected, Runnable action) {
    assertEquals(expected, assertThrows(IllegalArgumentException.class, action::run).getMessage());
  }
}
