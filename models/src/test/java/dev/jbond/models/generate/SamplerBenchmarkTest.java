package dev.jbond.models.generate;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.models.decoder.DecoderBuilder;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.onnx.ort.OrtEnvironments;
import dev.jbond.onnx.ort.OrtModelSession;
import dev.jbond.onnx.ort.OrtSessions;
import dev.jbond.onnx.ort.SessionConfig;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * Generated tokens per second of the KV-cache sampler against recomputing the full sequence for
 * every token (issue 4's benchmark), on a 3.3M-parameter decoder (V=259, C=128, 4 layers, d=256, 4
 * heads), 8-token prompts and 64 new tokens without EOS; and what copying the cache through Java
 * each step would cost. Prints, asserts nothing; opt in with {@code -Djbond.benchmark=true}.
 */
@EnabledIfSystemProperty(named = "jbond.benchmark", matches = "true")
class SamplerBenchmarkTest {
  private static final int PROMPT = 8;
  private static final int NEW_TOKENS = 64;

  @TempDir Path dir;

  @Test
  void sample_kvCacheVersusRecompute_tokensPerSecond() throws IOException, OrtException {
    DecoderConfig config =
        DecoderConfig.builder()
            .setVocabSize(GenerateFixtures.VOCAB)
            .setContextLength(128)
            .setLayers(4)
            .setWidth(256)
            .setHeads(4)
            .setSeed(1)
            .optInitStd(0.2)
            .build();
    ModelDirectory model =
        ModelDirectory.write(
            dir, DecoderWeights.initialize(config), OptionalInt.empty(), OptionalInt.empty());
    SamplingConfig sampling = SamplingConfig.builder().setMaxNewTokens(NEW_TOKENS).build();
    System.out.printf(
        "SamplerBenchmarkTest: %d parameters, %d CPUs, prompt %d, %d new tokens%n",
        config.parameterCount(), Runtime.getRuntime().availableProcessors(), PROMPT, NEW_TOKENS);
    try (OrtModelSession decode = OrtSessions.open(model.decodeGraph(), SessionConfig.defaults());
        OrtModelSession full = OrtSessions.open(model.fullGraph(), SessionConfig.defaults())) {
      KvCacheSampler kv = new KvCacheSampler(decode, config);
      FullSequenceSampler recompute = new FullSequenceSampler(full, config);
      for (int batch : new int[] {1, 32}) {
        List<Prompt> prompts = prompts(batch);
        double cached = tokensPerSecond(kv, prompts, sampling);
        double recomputed = tokensPerSecond(recompute, prompts, sampling);
        System.out.printf(
            "SamplerBenchmarkTest: batch %2d: KV cache %8.1f tokens/s, recompute %8.1f tokens/s,"
                + " speed-up %.1fx%n",
            batch, cached, recomputed, cached / recomputed);
      }
      cacheCopyCost(decode, config, 32, PROMPT + NEW_TOKENS / 2);
    }
  }

  private static double tokensPerSecond(
      SequenceSampler sampler, List<Prompt> prompts, SamplingConfig sampling) {
    sampler.sample(prompts, 1, sampling, 0);
    int repeats = 3;
    long start = System.nanoTime();
    long tokens = 0;
    for (int r = 1; r <= repeats; r++) {
      for (SampledSequence s : sampler.sample(prompts, 1, sampling, r)) {
        tokens += s.completion().length();
      }
    }
    return tokens / ((System.nanoTime() - start) / 1e9);
  }

  /**
   * Times one decode step at batch {@code rows} and cache length {@code past}, feeding the previous
   * {@code present.*} back as native tensors (what {@link KvCacheSampler} does) or copied through
   * Java arrays into new tensors.
   */
  private static void cacheCopyCost(
      OrtModelSession decode, DecoderConfig config, int rows, int past) throws OrtException {
    OrtEnvironment environment = OrtEnvironments.shared();
    OrtSession session = decode.unwrap();
    long[] cacheShape = {rows, config.heads(), past, config.headWidth()};
    SplittableRandom random = new SplittableRandom(3);
    float[] values = new float[(int) OrtCalls.elements(cacheShape)];
    for (int i = 0; i < values.length; i++) {
      values[i] = (float) random.nextGaussian();
    }
    List<OnnxTensor> created = new ArrayList<>();
    try {
      Map<String, OnnxTensorLike> feed = new HashMap<>();
      for (int i = 0; i < config.layers(); i++) {
        OnnxTensor cache =
            OnnxTensor.createTensor(environment, FloatBuffer.wrap(values), cacheShape);
        created.add(cache);
        feed.put(DecoderBuilder.pastKey(i), cache);
        feed.put(DecoderBuilder.pastValue(i), cache);
      }
      long[] ids = new long[rows];
      long[] mask = new long[rows * (past + 1)];
      Arrays.fill(mask, 1);
      long[] positions = new long[rows];
      Arrays.fill(positions, past);
      OnnxTensor idTensor =
          OnnxTensor.createTensor(environment, LongBuffer.wrap(ids), new long[] {rows, 1});
      OnnxTensor maskTensor =
          OnnxTensor.createTensor(environment, LongBuffer.wrap(mask), new long[] {rows, past + 1});
      OnnxTensor positionTensor =
          OnnxTensor.createTensor(environment, LongBuffer.wrap(positions), new long[] {rows, 1});
      created.add(idTensor);
      created.add(maskTensor);
      created.add(positionTensor);
      feed.put(DecoderBuilder.INPUT_IDS, idTensor);
      feed.put(DecoderBuilder.ATTENTION_MASK, maskTensor);
      feed.put(DecoderBuilder.POSITION_IDS, positionTensor);
      int repeats = 50;
      long stepNanos = 0;
      long copyNanos = 0;
      for (int r = 0; r < repeats; r++) {
        long start = System.nanoTime();
        try (OrtSession.Result result = session.run(feed)) {
          stepNanos += System.nanoTime() - start;
          start = System.nanoTime();
          for (int i = 0; i < config.layers(); i++) {
            for (String name :
                new String[] {DecoderBuilder.presentKey(i), DecoderBuilder.presentValue(i)}) {
              OnnxTensor present = (OnnxTensor) result.get(name).orElseThrow();
              FloatBuffer copy = present.getFloatBuffer();
              OnnxTensor.createTensor(environment, copy, present.getInfo().getShape()).close();
            }
          }
          copyNanos += System.nanoTime() - start;
        }
      }
      System.out.printf(
          "SamplerBenchmarkTest: decode step at batch %d, past %d: %.2f ms; copying present.* through"
              + " Java into new tensors would add %.2f ms (%.0f%%)%n",
          rows,
          past,
          stepNanos / 1e6 / repeats,
          copyNanos / 1e6 / repeats,
          100.0 * copyNanos / stepNanos);
    } finally {
      OrtCalls.closeAll(created);
    }
  }

  private static List<Prompt> prompts(int count) {
    SplittableRandom random = new SplittableRandom(count);
    List<Prompt> prompts = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      prompts.add(new Prompt("p" + i, TokenSequence.of(random.ints(PROMPT, 0, 256).toArray())));
    }
    return prompts;
  }
}
