package dev.jbond.tests;

import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.generate.SamplingConfig;
import dev.jbond.serving.TritonSampler;
import dev.jbond.spi.PolicySampler;
import dev.jbond.testing.PolicySamplerContract;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Triton sampler against the SPI contract, over the embedded server. The server decodes one row
 * per batch here, so that repeated calls give bit-identical log-probs (the contract compares whole
 * generations; batches of another shape may move a log-prob by float rounding).
 */
class TritonConformanceTest {
  @Nested
  class Sampler extends PolicySamplerContract {
    @TempDir Path repo;
    private TritonServing serving;

    @BeforeEach
    void start() throws Exception {
      DecoderConfig config =
          DecoderConfig.builder()
              .setVocabSize(32)
              .setContextLength(16)
              .setLayers(1)
              .setWidth(16)
              .setHeads(2)
              .setSeed(5)
              .build();
      TritonServing.writeRoles(
          repo, DecoderWeights.initialize(config), OptionalInt.of(1), OptionalInt.of(0));
      serving = TritonServing.start(repo, 1);
    }

    @AfterEach
    void stop() {
      serving.close();
    }

    @Override
    protected PolicySampler newSampler() {
      return TritonSampler.builder(
              serving.client,
              SamplingConfig.builder()
                  .setMaxNewTokens(6)
                  .optEosTokenIds(1)
                  .optPadTokenId(0)
                  .build())
          .build();
    }

    @Override
    protected List<Prompt> prompts() {
      return List.of(
          new Prompt("a", TokenSequence.of(3, 4, 5)), new Prompt("b", TokenSequence.of(7)));
    }
  }
}
