package dev.jbond.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.BackendException;
import dev.jbond.Generation;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.serving.embedded.EmbeddedTritonServer;
import dev.jbond.serving.triton.TritonChannel;
import dev.jbond.serving.triton.TritonClient;
import dev.jbond.serving.triton.TritonEndpointStatus;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TritonWeightPublisher} with endpoint failures tolerated, over two in-process servers: a
 * server that is down is quarantined (no sample comes from its stale weights), and when it is back
 * the next publish brings it up to date with the latest weights of every role before releasing it.
 */
class TritonWeightPublisherFleetTest {
  @TempDir Path repo;

  @Test
  void publish_oneServerDown_quarantinesItThenCatchesItUpWhenBack() throws Exception {
    GenerationServers.write(repo, GenerationServers.POLICY, 1, 7, false);
    GenerationServers.write(repo, "jbond-anchor", 1, 7, false);
    String a = GenerationServers.uniqueName();
    String b = GenerationServers.uniqueName();
    EmbeddedTritonServer serverA = GenerationServers.startInProcess(repo, a);
    EmbeddedTritonServer serverB = GenerationServers.startInProcess(repo, b);
    ManagedChannel channelA = GenerationServers.inProcessChannel(a);
    ManagedChannel channelB = GenerationServers.inProcessChannel(b);
    List<Prompt> prompts = GenerationServers.prompts(4, 3);
    try (TritonClient client =
        GenerationServers.client(
            List.of(new TritonChannel("a", channelA), new TritonChannel("b", channelB)),
            Duration.ofHours(1),
            1)) {
      TritonWeightPublisher publisher =
          TritonWeightPublisher.builder(client, GenerationServers.decoder(7))
              .optSpecialTokens(
                  OptionalInt.of(GenerationServers.EOS), OptionalInt.of(GenerationServers.PAD))
              .optTimeouts(Duration.ofSeconds(5), Duration.ofSeconds(5))
              .optTolerateEndpointFailures(true)
              .build();
      TritonSampler sampler =
          TritonSampler.builder(client, GenerationServers.sampling(6))
              .optModelName(PolicyRole.ANCHOR, "jbond-anchor")
              .build();
      DecoderWeights second = weights(8);
      DecoderWeights third = weights(9);

      serverB.close();
      publisher.publish(PolicyRole.POLICY, second, 2);
      publisher.publish(PolicyRole.ANCHOR, second, 2);

      assertEquals(
          Set.of(PolicyRole.POLICY, PolicyRole.ANCHOR), publisher.staleEndpoints().get("b"));
      TritonEndpointStatus b1 = client.endpointStatuses().get(1);
      assertTrue(b1.quarantine().isPresent(), b1.toString());
      for (Generation g : sampler.sample(prompts, 2, PolicyRole.POLICY, 5)) {
        assertEquals(2, g.model().version(), "every sample from the current weights");
      }

      serverB = GenerationServers.startInProcess(repo, b); // back, serving version 1
      channelB.resetConnectBackoff(); // reconnect now rather than after gRPC's backoff
      client.checkHealth().join();
      publisher.publish(PolicyRole.POLICY, third, 3);

      // the policy went to both; b also got the anchor it had missed, then left quarantine
      assertEquals(
          List.of(),
          List.copyOf(publisher.staleEndpoints().keySet()),
          client.endpointStatuses().toString());
      assertTrue(
          client.endpointStatuses().get(1).available(), client.endpointStatuses().toString());
      assertEquals(
          List.of(2L),
          serverB.models().stream()
              .filter(m -> m.name().equals("jbond-anchor"))
              .map(m -> m.version().getAsLong())
              .toList());
      for (int i = 0; i < 4; i++) {
        for (Generation g : sampler.sample(prompts, 2, PolicyRole.POLICY, 10 + i)) {
          assertEquals(3, g.model().version(), "every sample from the current weights");
        }
      }

      serverA.close();
      serverB.close();
      BackendException none =
          assertThrows(
              BackendException.class, () -> publisher.publish(PolicyRole.POLICY, second, 4));
      assertTrue(
          none.getMessage()
              .startsWith(
                  "Failed to publish version 4 of model 'jbond-policy' on any endpoint of [a, b]"),
          none.getMessage());
    } finally {
      serverA.close();
      serverB.close();
      GenerationServers.shutdown(channelA);
      GenerationServers.shutdown(channelB);
    }
  }

  /** Other weights of the same architecture (the decoder seeded 7). */
  private static DecoderWeights weights(long seed) {
    return DecoderWeights.fromInitializers(
        GenerationServers.decoder(7),
        DecoderWeights.initialize(GenerationServers.decoder(seed)).tensors());
  }
}
