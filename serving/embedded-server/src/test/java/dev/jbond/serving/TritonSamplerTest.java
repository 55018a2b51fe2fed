package dev.jbond.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.BackendException;
import dev.jbond.Generation;
import dev.jbond.ModelVersion;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.models.generate.DirectSampler;
import dev.jbond.serving.embedded.EmbeddedTritonServer;
import dev.jbond.serving.triton.TritonCallOptions;
import dev.jbond.serving.triton.TritonChannel;
import dev.jbond.serving.triton.TritonClient;
import dev.jbond.serving.triton.TritonTensor;
import dev.jbond.serving.triton.TritonTensors;
import dev.jbond.serving.triton.proto.ModelInferRequest;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The acceptance test of the Triton sampler: N candidates per prompt sampled through the client
 * against the embedded server (unary and decoupled stream) equal the direct sampler's for the same
 * seeds, tokens identical and log-probs within 1e-5; plus the served version, request checks and
 * deadlines.
 */
class TritonSamplerTest {
  private static final long SEED = 20261127L;
  private static final int NEW_TOKENS = 12;

  @TempDir Path repo;
  private EmbeddedTritonServer server;
  private ManagedChannel channel;
  private TritonClient client;
  private DirectSampler direct;

  @BeforeEach
  void setUp() throws Exception {
    GenerationServers.write(repo, GenerationServers.POLICY, 1, 7, false);
    GenerationServers.write(repo, GenerationServers.POLICY_STREAM, 1, 7, true);
    String name = GenerationServers.uniqueName();
    server = GenerationServers.startInProcess(repo, name);
    channel = GenerationServers.inProcessChannel(name);
    client =
        GenerationServers.client(
            List.of(new TritonChannel("embedded", channel)), Duration.ofHours(1), SEED);
    direct =
        DirectSampler.builder(
                ModelDirectory.read(repo.resolve(GenerationServers.POLICY).resolve("1")),
                GenerationServers.sampling(NEW_TOKENS))
            .optSessionConfig(GenerationServers.SESSION)
            .build();
  }

  @AfterEach
  void tearDown() {
    direct.close();
    client.close();
    GenerationServers.shutdown(channel);
    server.close();
  }

  private TritonSampler.Builder sampler() {
    return TritonSampler.builder(client, GenerationServers.sampling(NEW_TOKENS));
  }

  private static void assertSameSamples(List<Generation> expected, List<Generation> actual) {
    assertEquals(expected.size(), actual.size());
    for (int i = 0; i < expected.size(); i++) {
      Generation e = expected.get(i);
      Generation a = actual.get(i);
      assertEquals(e.prompt(), a.prompt(), "prompt of row " + i);
      assertEquals(e.completion(), a.completion(), "tokens of row " + i);
      double[] el = e.engineLogProbs().orElseThrow().toArray();
      double[] al = a.engineLogProbs().orElseThrow().toArray();
      assertEquals(el.length, al.length, "log-probs of row " + i);
      for (int k = 0; k < el.length; k++) {
        assertEquals(el[k], al[k], 1e-5, "log-prob " + k + " of row " + i);
      }
    }
  }

  @Test
  void sample_unary_equalsDirectSampler() {
    List<Prompt> prompts = GenerationServers.prompts(6, SEED);
    try (TritonSampler triton = sampler().build()) {
      List<Generation> actual = triton.sample(prompts, 4, PolicyRole.POLICY, SEED);
      assertSameSamples(direct.sample(prompts, 4, PolicyRole.POLICY, SEED), actual);
      assertTrue(
          actual.stream().anyMatch(g -> g.completion().length() < NEW_TOKENS),
          "Expected some completion to stop at EOS");
      assertTrue(
          actual.stream()
              .allMatch(g -> g.model().equals(new ModelVersion(GenerationServers.POLICY, 1))));
    }
  }

  @Test
  void sample_nonDecoupledModelOnOneStream_equalsDirectSampler() {
    List<Prompt> prompts = GenerationServers.prompts(5, SEED + 2);
    List<String> methods = new CopyOnWriteArrayList<>();
    ClientInterceptor recorder =
        new ClientInterceptor() {
          @Override
          public <Q, R> ClientCall<Q, R> interceptCall(
              MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
            methods.add(method.getBareMethodName());
            return next.newCall(method, options);
          }
        };
    try (TritonClient recorded =
            GenerationServers.client(
                List.of(
                    new TritonChannel("embedded", ClientInterceptors.intercept(channel, recorder))),
                Duration.ofHours(1),
                SEED);
        TritonSampler triton =
            TritonSampler.builder(recorded, GenerationServers.sampling(NEW_TOKENS))
                .optStream(true)
                .build()) {
      List<Generation> actual = triton.sample(prompts, 3, PolicyRole.POLICY, SEED + 2);
      assertSameSamples(direct.sample(prompts, 3, PolicyRole.POLICY, SEED + 2), actual);
      assertEquals(new ModelVersion(GenerationServers.POLICY, 1), actual.get(0).model());
      // 15 requests, one stream
      assertEquals(
          List.of("ModelStreamInfer"),
          methods.stream().filter(m -> m.contains("Infer")).toList(),
          methods.toString());
    }
  }

  @Test
  void sample_decoupledStream_equalsDirectSampler() {
    List<Prompt> prompts = GenerationServers.prompts(5, SEED + 1);
    try (TritonSampler triton =
        sampler()
            .optDecoupled(true)
            .optModelName(PolicyRole.POLICY, GenerationServers.POLICY_STREAM)
            .build()) {
      List<Generation> actual = triton.sample(prompts, 3, PolicyRole.POLICY, SEED + 1);
      assertSameSamples(direct.sample(prompts, 3, PolicyRole.POLICY, SEED + 1), actual);
      assertEquals(new ModelVersion(GenerationServers.POLICY_STREAM, 1), actual.get(0).model());
    }
  }

  @Test
  void sample_decoupledBatchedSamples_equalsDirectSampler() {
    List<Prompt> prompts = GenerationServers.prompts(4, SEED + 3);
    try (TritonSampler triton =
        sampler()
            .optDecoupled(true)
            .optBatchSamples(true)
            .optModelName(PolicyRole.POLICY, GenerationServers.POLICY_STREAM)
            .build()) {
      assertSameSamples(
          direct.sample(prompts, 4, PolicyRole.POLICY, SEED + 3),
          triton.sample(prompts, 4, PolicyRole.POLICY, SEED + 3));
    }
  }

  @Test
  void build_batchedSamplesOfNonDecoupledModel_throws() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> sampler().optBatchSamples(true).build());
    assertTrue(e.getMessage().startsWith("Expected a decoupled model for batched samples"));
  }

  @Test
  void sample_burstHint_equalsDirectSampler() {
    List<Prompt> prompts = GenerationServers.prompts(3, SEED + 4);
    try (TritonSampler triton = sampler().optBurstHint(true).build()) {
      assertSameSamples(
          direct.sample(prompts, 4, PolicyRole.POLICY, SEED + 4),
          triton.sample(prompts, 4, PolicyRole.POLICY, SEED + 4));
    }
  }

  @Test
  void sample_distinctSamplesOfOnePrompt_differ() {
    List<Prompt> prompts = GenerationServers.prompts(1, SEED + 2);
    try (TritonSampler triton = sampler().build()) {
      List<Generation> out = triton.sample(prompts, 8, PolicyRole.POLICY, SEED);
      assertTrue(
          out.stream().map(Generation::completion).distinct().count() > 1,
          "Expected independent samples, found " + out);
      assertEquals(
          out.stream().map(Generation::completion).toList(),
          triton.sample(prompts, 8, PolicyRole.POLICY, SEED).stream()
              .map(Generation::completion)
              .toList());
    }
  }

  @Test
  void sample_emptyPrompts_throws() {
    try (TritonSampler triton = sampler().build()) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () -> triton.sample(List.of(), 1, PolicyRole.POLICY, SEED));
      assertEquals("Expected at least one prompt, found none", e.getMessage());
    }
  }

  @Test
  void sample_afterClose_throws() {
    TritonSampler triton = sampler().build();
    triton.close();
    triton.close();
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> triton.sample(GenerationServers.prompts(1, 1), 1, PolicyRole.POLICY, SEED));
    assertEquals("TritonSampler is closed", e.getMessage());
  }

  @Test
  void sample_unknownModel_throwsNotFound() {
    try (TritonSampler triton = sampler().optModelName(PolicyRole.ANCHOR, "missing").build()) {
      BackendException e =
          assertThrows(
              BackendException.class,
              () -> triton.sample(GenerationServers.prompts(1, 1), 1, PolicyRole.ANCHOR, SEED));
      assertEquals(BackendException.Code.NOT_FOUND, e.code());
      assertTrue(e.getMessage().contains("missing"), e.getMessage());
    }
  }

  @Test
  void modelInfer_missingRequestOutputLen_invalidArgument() {
    String message =
        invalidArgument(
            TritonTensor.ofInt32("input_ids", new long[] {1, 2}, 3, 4),
            TritonTensor.ofInt32("input_lengths", new long[] {1, 1}, 2));
    assertTrue(message.contains("request_output_len"), message);
  }

  @Test
  void modelInfer_promptTooLongForContext_invalidArgument() {
    String message =
        invalidArgument(
            TritonTensor.ofInt32("input_ids", new long[] {1, 2}, 3, 4),
            TritonTensor.ofInt32("input_lengths", new long[] {1, 1}, 2),
            TritonTensor.ofInt32("request_output_len", new long[] {1, 1}, 47));
    assertTrue(message.contains("context length 48") && message.contains("2 + 47"), message);
  }

  /** Sends a ModelInfer with {@code inputs} to the policy: INVALID_ARGUMENT, whose message. */
  private String invalidArgument(TritonTensor... inputs) {
    ModelInferRequest.Builder request =
        ModelInferRequest.newBuilder().setModelName(GenerationServers.POLICY);
    TritonTensors.setInputs(request, List.of(inputs));
    CompletionException e =
        assertThrows(
            CompletionException.class,
            () -> client.modelInfer(request.build(), TritonCallOptions.defaults()).join());
    BackendException cause = (BackendException) e.getCause();
    assertEquals(BackendException.Code.INVALID_ARGUMENT, cause.code());
    return cause.getMessage();
  }
}
