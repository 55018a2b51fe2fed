package dev.jbond.orchestrator.run;

import dev.jbond.PolicyRole;
import dev.jbond.models.generate.SamplingConfig;
import dev.jbond.models.policy.PolicyFiles;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.orchestrator.config.RunConfig;
import dev.jbond.orchestrator.export.Exporter;
import dev.jbond.serving.ServedAdapters;
import dev.jbond.serving.TensorProfile;
import dev.jbond.serving.TritonLoraPublisher;
import dev.jbond.serving.TritonSampler;
import dev.jbond.serving.TritonWeightPublisher;
import dev.jbond.serving.TrtLlmModelConfig;
import dev.jbond.serving.embedded.EmbeddedTritonServer;
import dev.jbond.serving.embedded.TrtLlmGenerationModel;
import dev.jbond.serving.triton.TritonClient;
import dev.jbond.serving.triton.TritonClientConfig;
import dev.jbond.serving.triton.TritonEndpoint;
import dev.jbond.serving.triton.TritonHealthCheck;
import dev.jbond.serving.triton.TritonRetryPolicy;
import dev.jbond.serving.triton.TritonTls;
import dev.jbond.serving.triton.proto.ModelConfig;
import dev.jbond.serving.triton.proto.ModelStreamInferResponse;
import dev.jbond.spi.WeightPublisher;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Where a run's samples come from and its weights go: the embedded Triton-protocol server on a free
 * loopback port (real gRPC over TCP) or the configured Triton endpoints, a {@link TritonClient}
 * over them, a {@link TritonSampler} for training samples and one for evaluation samples, and a
 * {@link TritonWeightPublisher} that tolerates the loss of some endpoints (they are quarantined
 * until they hold the current weights again).
 *
 * <p>Closing closes the samplers, the client and the embedded server, in that order.
 */
final class RunServing implements AutoCloseable {
  private final EmbeddedTritonServer server;
  private final TritonClient client;
  private final TritonSampler training;
  private final TritonSampler evaluation;
  private final WeightPublisher publisher;

  private RunServing(
      EmbeddedTritonServer server,
      TritonClient client,
      TritonSampler training,
      TritonSampler evaluation,
      WeightPublisher publisher) {
    this.server = server;
    this.client = client;
    this.training = training;
    this.evaluation = evaluation;
    this.publisher = publisher;
  }

  /**
   * Starts serving for a run.
   *
   * @param config the run's configuration
   * @param directory the run's folder (the embedded server's repository goes in {@code serving/})
   * @param policy the policy's model directory (the initial weights every role starts from)
   * @param needsReference whether the objective samples the reference (its model is then served and
   *     health-checked)
   * @param spin whether ONNX Runtime's threads may spin
   * @return the started serving; the caller closes it
   * @throws IOException when the repository cannot be written or the server cannot start
   */
  static RunServing start(
      RunConfig config,
      RunDirectory directory,
      PolicyFiles policy,
      boolean needsReference,
      boolean spin,
      RunListener listener)
      throws IOException {
    RunConfig.Serving s = config.serving();
    EmbeddedTritonServer server = null;
    TritonClient client = null;
    try {
      List<TritonEndpoint> endpoints = new ArrayList<>();
      if (s.mode() == RunConfig.ServingMode.EMBEDDED) {
        server = startEmbedded(config, directory.serving(), policy, spin);
        endpoints.add(new TritonEndpoint("embedded", server.target(), Optional.empty()));
      } else {
        for (RunConfig.Endpoint e : s.endpoints()) {
          endpoints.add(
              new TritonEndpoint(
                  e.name() == null ? e.target() : e.name(),
                  e.target(),
                  Optional.ofNullable(e.tls()).map(RunServing::tls)));
        }
      }
      List<String> models = new ArrayList<>(List.of(s.models().policy(), s.models().anchor()));
      if (needsReference) {
        models.add(s.models().reference());
      }
      if (config.reward().tritonModel() != null) {
        models.add(config.reward().tritonModel());
      }
      client =
          TritonClient.builder(
                  TritonClientConfig.builder()
                      .optEndpoints(endpoints)
                      .optDeadline(s.deadline())
                      .optRetry(
                          new TritonRetryPolicy(
                              s.retry().maxAttempts(),
                              s.retry().initialBackoff(),
                              s.retry().maxBackoff(),
                              2.0))
                      .optHealthCheck(
                          new TritonHealthCheck(
                              s.health().interval(),
                              s.health().timeout(),
                              s.health().ejectAfter(),
                              models))
                      .optShutdownTimeout(Duration.ofSeconds(5))
                      .build())
              .optInterceptor(new CallCounter(listener))
              .build();
      ServedAdapters adapters = config.adaptersPerRequest() ? new ServedAdapters() : null;
      TritonSampler training =
          sampler(client, s, RunComponents.training(config.sampling(), policy), adapters);
      TritonSampler evaluation =
          sampler(
              client,
              s,
              RunComponents.evaluation(config.sampling(), config.eval(), policy),
              adapters);
      if (adapters != null) {
        WeightPublisher perRequest =
            new TritonLoraPublisher(client, training, adapters, Exporter.loraDtype(config));
        return new RunServing(server, client, training, evaluation, perRequest);
      }
      TritonWeightPublisher.Builder publishing =
          TritonWeightPublisher.builder(client, policy)
              .optModelName(PolicyRole.POLICY, s.models().policy())
              .optModelName(PolicyRole.ANCHOR, s.models().anchor())
              .optSpecialTokens(policy.eosTokenId(), policy.padTokenId())
              .optMaxBatchSize(s.maxBatchRows())
              .optTimeouts(s.loadDeadline(), s.loadDeadline())
              .optTolerateEndpointFailures(true);
      if (server != null) {
        // the embedded server reads this repository: models over one message's size go there
        publishing.optSharedRepository(directory.serving());
      }
      TritonWeightPublisher publisher = publishing.build();
      return new RunServing(server, client, training, evaluation, publisher);
    } catch (IOException | RuntimeException e) {
      if (client != null) {
        client.close();
      }
      if (server != null) {
        server.close();
      }
      throw e;
    }
  }

  private static TritonSampler sampler(
      TritonClient client, RunConfig.Serving s, SamplingConfig sampling, ServedAdapters adapters) {
    TritonSampler.Builder builder =
        TritonSampler.builder(client, sampling)
            .optModelName(PolicyRole.POLICY, s.models().policy())
            .optModelName(PolicyRole.ANCHOR, s.models().anchor())
            .optModelName(PolicyRole.REFERENCE, s.models().reference())
            .optStream(s.transport() == RunConfig.Transport.STREAM)
            .optDeadline(s.deadline());
    if (adapters != null) {
      // a batch's adapter products are not row-for-row independent of how the batch was formed
      // (inputs, not prepacked initializers): rows of a call decode together for reproducible runs
      builder.optAdapters(adapters).optBurstHint(true);
    }
    return builder.build();
  }

  private static TritonTls tls(RunConfig.Tls t) {
    return new TritonTls(
        Optional.ofNullable(t.caFile()).map(Path::of),
        Optional.ofNullable(t.certFile()).map(Path::of),
        Optional.ofNullable(t.keyFile()).map(Path::of),
        Optional.ofNullable(t.authority()));
  }

  /**
   * Writes the policy's initial weights as version 1 of the policy and anchor models and starts an
   * embedded server over them on a free loopback port.
   */
  private static EmbeddedTritonServer startEmbedded(
      RunConfig config, Path repository, PolicyFiles policy, boolean spin) throws IOException {
    RunConfig.Serving s = config.serving();
    Set<String> names =
        new LinkedHashSet<>(
            List.of(s.models().policy(), s.models().anchor(), s.models().reference()));
    for (String model : names) {
      ModelConfig served =
          TrtLlmModelConfig.config(model, s.maxBatchRows(), false, TensorProfile.trtLlm());
      boolean takesAdapters =
          model.equals(s.models().policy()) || model.equals(s.models().anchor());
      if (config.adaptersPerRequest() && takesAdapters) {
        // as an engine built with --lora_plugin: adapters per request, a host cache
        served =
            TrtLlmModelConfig.withLora(
                served,
                TensorProfile.trtLlm(),
                Exporter.loraDtype(config).datatype(),
                s.lora().cacheBytes());
      }
      TrtLlmModelConfig.write(repository, served, 1, policy, Map.of());
    }
    RunConfig.Reward reward = config.reward();
    if (reward.tritonModel() != null) {
      // the reward under its served name, an ONNX model the server completes the config of
      Path version = repository.resolve(reward.tritonModel()).resolve("1");
      Files.createDirectories(version);
      Files.copy(
          RunComponents.rewardFile(Path.of(reward.model())),
          version.resolve("model.onnx"),
          StandardCopyOption.REPLACE_EXISTING);
      Files.writeString(
          repository.resolve(reward.tritonModel()).resolve("config.pbtxt"),
          "name: \""
              + reward.tritonModel()
              + "\"\nbackend: \"onnxruntime\"\nmax_batch_size: "
              + reward.maxBatchRows()
              + "\n");
    }
    SessionConfig session = RunComponents.session(s.threads(), spin);
    EmbeddedTritonServer server =
        EmbeddedTritonServer.builder(repository)
            .optHost("127.0.0.1")
            .optPort(0)
            .optSessionConfig(session)
            .optGenerationModelFactory(
                TrtLlmGenerationModel.factory(
                    new TrtLlmGenerationModel.Settings(
                        TensorProfile.trtLlm(),
                        Duration.ofMillis(1),
                        s.maxBatchRows(),
                        1,
                        session)))
            .build();
    try {
      return server.start();
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
  }

  TritonClient client() {
    return client;
  }

  TritonSampler training() {
    return training;
  }

  TritonSampler evaluation() {
    return evaluation;
  }

  WeightPublisher publisher() {
    return publisher;
  }

  /** The address of the embedded server, or empty when the run uses Triton endpoints. */
  Optional<String> embeddedTarget() {
    return server == null ? Optional.empty() : Optional.of(server.target());
  }

  @Override
  public void close() {
    training.close();
    evaluation.close();
    client.close();
    if (server != null) {
      server.close();
    }
  }

  /**
   * Tells the listener the outcome of every Triton request: a unary call by its gRPC status; on a
   * stream, each response by its in-band error (OK or STREAM_ERROR) and a stream that ends badly by
   * its status.
   */
  static final class CallCounter implements ClientInterceptor {
    private final RunListener listener;

    CallCounter(RunListener listener) {
      this.listener = listener;
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(
        MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
      String name = String.valueOf(method.getBareMethodName());
      boolean streaming = !method.getType().clientSendsOneMessage();
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void start(Listener<R> responseListener, Metadata headers) {
          super.start(
              new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(
                  responseListener) {
                @Override
                public void onMessage(R message) {
                  if (streaming) {
                    boolean failed =
                        message instanceof ModelStreamInferResponse r
                            && !r.getErrorMessage().isEmpty();
                    listener.tritonCall(name, failed ? "STREAM_ERROR" : "OK");
                  }
                  super.onMessage(message);
                }

                @Override
                public void onClose(Status status, Metadata trailers) {
                  if (!streaming || !status.isOk()) {
                    listener.tritonCall(name, status.getCode().name());
                  }
                  super.onClose(status, trailers);
                }
              },
              headers);
        }
      };
    }
  }
}
