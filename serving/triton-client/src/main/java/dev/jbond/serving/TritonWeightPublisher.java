package dev.jbond.serving;

import com.google.protobuf.ByteString;
import dev.jbond.BackendException;
import dev.jbond.ModelVersion;
import dev.jbond.PolicyRole;
import dev.jbond.models.decoder.DecoderConfig;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.models.policy.PolicyFiles;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.train.OrtPolicyLearner;
import dev.jbond.serving.triton.TritonCallOptions;
import dev.jbond.serving.triton.TritonClient;
import dev.jbond.serving.triton.TritonEndpointStatus;
import dev.jbond.serving.triton.proto.ModelConfig;
import dev.jbond.serving.triton.proto.RepositoryIndexResponse;
import dev.jbond.spi.PolicyLearner;
import dev.jbond.spi.WeightPublisher;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * A {@link WeightPublisher} that makes a learner's weights servable on every endpoint of a {@link
 * TritonClient} serving jbond-generate models (the embedded server; the TensorRT-LLM profile).
 *
 * <p>{@link #publish(PolicyLearner, PolicyRole, long)} takes the role's weights from an {@link
 * OrtPolicyLearner} ({@link DecoderWeights#fromInitializers}), writes them as a jbond model
 * directory and then, on each endpoint:
 *
 * <ol>
 *   <li>optionally unloads the model first and waits until RepositoryIndex no longer shows it
 *       UNLOADING (for servers that cannot hold two copies; see the Triton notes on reloading a
 *       GPU-filling model);
 *   <li>when the directory's files fit {@link Builder#optMaxMessageBytes} in total:
 *       RepositoryModelLoad with {@code config} (JSON, {@link TrtLlmModelConfig#config}) and one
 *       {@code file:<version>/<file>} override per file; otherwise, when a shared repository is
 *       set, writes {@code <repository>/<model>/<version>/} and {@code config.pbtxt} there and
 *       loads with {@code config} only; else fails with RESOURCE_EXHAUSTED;
 *   <li>waits until ModelReady is true.
 * </ol>
 *
 * The returned {@link ModelVersion} is the number the (first) endpoint serves the new weights
 * under, read from RepositoryIndex: Triton serves the version directory's number, while jbond's
 * embedded server keeps numbers monotonic per model and may serve a reload under a fresh number
 * above every earlier one. Samples of a {@link TritonSampler} record the version from the
 * responses' {@code model_version}, so they match it.
 *
 * <p>Ownership: the client belongs to the caller. Temporary directories are deleted after each
 * publish. Not thread-safe with itself (publishes of one publisher run one at a time); {@link
 * #publish(PolicyLearner, Set, long)} loads its roles concurrently on threads of its own, which
 * {@link #close()} stops.
 */
public final class TritonWeightPublisher implements WeightPublisher {
  private final TritonClient client;
  private final DecoderConfig decoder;
  private final PolicyFiles files;
  private final TensorProfile profile;
  private final Map<PolicyRole, String> models;
  private final OptionalInt eosTokenId;
  private final OptionalInt padTokenId;
  private final boolean decoupled;
  private final int maxBatchSize;
  private final long maxMessageBytes;
  private final Optional<Path> sharedRepository;
  private final boolean unloadFirst;
  private final Duration loadDeadline;
  private final Duration readyTimeout;
  private final boolean tolerant;
  private final Map<PolicyRole, Published> latest = new EnumMap<>(PolicyRole.class);
  private final Map<String, Set<PolicyRole>> stale = new LinkedHashMap<>();
  private java.util.concurrent.ExecutorService loader;

  /** Versions this publisher wrote to the shared repository, per model, oldest first. */
  private final Map<String, ConcurrentLinkedDeque<Long>> writtenShared = new ConcurrentHashMap<>();

  /** How many versions of each model this publisher keeps in the shared repository. */
  static final int SHARED_VERSIONS_KEPT = 2;

  /**
   * The latest weights published of a role, kept to bring endpoints that missed them up to date.
   */
  private record Published(Map<String, Tensor> weights, long version) {}

  private TritonWeightPublisher(Builder builder) {
    this.client = builder.client;
    this.decoder = builder.decoder;
    this.files = builder.files;
    this.profile = builder.profile;
    this.models = new EnumMap<>(builder.models);
    this.eosTokenId = builder.eosTokenId;
    this.padTokenId = builder.padTokenId;
    this.decoupled = builder.decoupled;
    this.maxBatchSize = builder.maxBatchSize;
    this.maxMessageBytes = builder.maxMessageBytes;
    this.sharedRepository = builder.sharedRepository;
    this.unloadFirst = builder.unloadFirst;
    this.loadDeadline = builder.loadDeadline;
    this.readyTimeout = builder.readyTimeout;
    this.tolerant = builder.tolerant;
  }

  /**
   * Starts a publisher.
   *
   * @param client the client whose endpoints get the weights; not closed by the publisher
   * @param decoder the decoder architecture of the learner's model
   * @return the builder
   */
  public static Builder builder(TritonClient client, DecoderConfig decoder) {
    return new Builder(client, Objects.requireNonNull(decoder, "decoder"), null);
  }

  /**
   * Starts a publisher of any policy's weights: each publish writes {@link PolicyFiles#writeServed}
   * of the files (a jbond decoder directory, or an export's sampling graph with the learner's
   * weights mapped into it).
   *
   * @param client the client whose endpoints get the weights; not closed by the publisher
   * @param files the policy files the learner was opened on
   * @return the builder
   */
  public static Builder builder(TritonClient client, PolicyFiles files) {
    Objects.requireNonNull(files, "files");
    return new Builder(client, files instanceof ModelDirectory d ? d.config() : null, files);
  }

  /**
   * Publishes an {@link OrtPolicyLearner}'s current weights of {@code role}.
   *
   * @param learner an {@link OrtPolicyLearner}
   * @param role which weights
   * @param version the version to publish, {@code >= 1}; see {@link #publish(PolicyRole,
   *     DecoderWeights, long)} for 0
   * @return the served model version
   * @throws IllegalArgumentException when the learner is not an {@link OrtPolicyLearner} or the
   *     version is negative
   * @throws BackendException when writing, loading or waiting for readiness fails
   */
  @Override
  public ModelVersion publish(PolicyLearner learner, PolicyRole role, long version) {
    Objects.requireNonNull(learner, "learner");
    if (!(learner instanceof OrtPolicyLearner ort)) {
      throw new IllegalArgumentException(
          "Expected an OrtPolicyLearner to publish from, found "
              + learner.getClass().getSimpleName());
    }
    return publishWeights(role, trainedWeights(ort, role), version);
  }

  /**
   * Publishes in-memory weights as {@code version} of {@code role}'s model.
   *
   * @param role the role whose model gets them
   * @param weights the decoder weights, of the publisher's architecture
   * @param version the version, {@code >= 1}; 0 (the initial publish of a training loop, whose
   *     weights the servers already serve: Triton numbers versions from 1) pushes nothing, waits
   *     until the model is ready on every endpoint and returns version 0
   * @return the served model version
   * @throws IllegalArgumentException when the weights have another architecture or the version is
   *     negative
   * @throws BackendException when writing, loading or waiting for readiness fails
   */
  public ModelVersion publish(PolicyRole role, DecoderWeights weights, long version) {
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(weights, "weights");
    if (!weights.config().equals(decoder)) {
      throw new IllegalArgumentException(
          "Expected weights of " + decoder + ", found " + weights.config());
    }
    return publishWeights(role, tensors(weights), version);
  }

  /**
   * Publishes an {@link OrtPolicyLearner}'s current weights of several roles as {@code version}:
   * each role's files are written and loaded on every endpoint concurrently with the other roles'
   * (the servers load different models in parallel), and the call returns once all are ready.
   *
   * @param learner an {@link OrtPolicyLearner}
   * @param roles which weights
   * @param version the version to publish, {@code >= 0}
   * @return each role's served model version
   * @throws IllegalArgumentException when the learner is not an {@link OrtPolicyLearner} or the
   *     version is negative
   * @throws BackendException when writing, loading or waiting for readiness fails
   */
  @Override
  public Map<PolicyRole, ModelVersion> publish(
      PolicyLearner learner, Set<PolicyRole> roles, long version) {
    Objects.requireNonNull(learner, "learner");
    if (!(learner instanceof OrtPolicyLearner ort)) {
      throw new IllegalArgumentException(
          "Expected an OrtPolicyLearner to publish from, found "
              + learner.getClass().getSimpleName());
    }
    Map<PolicyRole, Map<String, Tensor>> weights = new EnumMap<>(PolicyRole.class);
    for (PolicyRole role : PolicyRole.values()) {
      if (roles.contains(role)) {
        weights.put(role, trainedWeights(ort, role));
      }
    }
    return publishRoles(weights, version);
  }

  /** The learner's weights of a role, by full-sequence graph name. */
  private Map<String, Tensor> trainedWeights(OrtPolicyLearner learner, PolicyRole role) {
    if (files != null) {
      return learner.servedWeights(role);
    }
    return tensors(DecoderWeights.fromInitializers(decoder, learner.servedWeights(role)));
  }

  /** Decoder weights by full-sequence graph name, in the decoder's parameter order. */
  private Map<String, Tensor> tensors(DecoderWeights weights) {
    Map<String, Tensor> tensors = new LinkedHashMap<>();
    for (String name : decoder.parameterShapes().keySet()) {
      tensors.put(name, weights.tensor(name));
    }
    return tensors;
  }

  /** Publishes trained parameters by full-sequence graph name. */
  private ModelVersion publishWeights(PolicyRole role, Map<String, Tensor> weights, long version) {
    Objects.requireNonNull(role, "role");
    return publishRoles(Map.of(role, weights), version).get(role);
  }

  /** What publishing one role on every endpoint did: per endpoint a served number or a failure. */
  private static final class RoleOutcome {
    final Map<String, Long> served = new LinkedHashMap<>();
    final Map<String, BackendException> failed = new LinkedHashMap<>();
    final Map<String, String> skipped = new LinkedHashMap<>();
  }

  /**
   * Publishes several roles, each on every endpoint, the roles concurrently; the bookkeeping of
   * stale endpoints happens on the caller's thread afterwards.
   */
  private Map<PolicyRole, ModelVersion> publishRoles(
      Map<PolicyRole, Map<String, Tensor>> weights, long version) {
    if (version < 0) {
      throw new IllegalArgumentException("Expected a model version >= 0, found " + version);
    }
    if (tolerant) {
      noteEjectedEndpoints();
    }
    List<PolicyRole> order = new ArrayList<>(weights.keySet());
    List<CompletableFuture<RoleOutcome>> tasks = new ArrayList<>();
    for (int i = 0; i < order.size() - 1; i++) {
      PolicyRole role = order.get(i);
      tasks.add(
          CompletableFuture.supplyAsync(
              () -> publishOnEndpoints(role, weights.get(role), version), loader()));
    }
    PolicyRole last = order.get(order.size() - 1);
    RoleOutcome lastOutcome;
    try {
      lastOutcome = publishOnEndpoints(last, weights.get(last), version);
    } catch (RuntimeException e) {
      tasks.forEach(t -> t.exceptionally(x -> null).join());
      throw e;
    }
    Map<PolicyRole, RoleOutcome> outcomes = new EnumMap<>(PolicyRole.class);
    RuntimeException failure = null;
    for (int i = 0; i < tasks.size(); i++) {
      try {
        outcomes.put(order.get(i), tasks.get(i).join());
      } catch (CompletionException e) {
        failure =
            failure != null
                ? failure
                : e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e);
      }
    }
    if (failure != null) {
      throw failure;
    }
    outcomes.put(last, lastOutcome);
    Map<PolicyRole, ModelVersion> out = new EnumMap<>(PolicyRole.class);
    for (PolicyRole role : order) {
      RoleOutcome o = outcomes.get(role);
      String model = models.get(role);
      o.skipped.forEach((endpoint, reason) -> markStale(endpoint, reason, role));
      BackendException firstFailure = null;
      for (Map.Entry<String, BackendException> f : o.failed.entrySet()) {
        if (!tolerant) {
          throw f.getValue();
        }
        markStale(f.getKey(), f.getValue().getMessage(), role);
        firstFailure = firstFailure == null ? f.getValue() : firstFailure;
      }
      for (String endpoint : o.served.keySet()) {
        staleRoles(endpoint).remove(role);
      }
      if (tolerant) {
        latest.put(role, new Published(weights.get(role), version));
      }
      if (o.served.isEmpty()) {
        throw new BackendException(
            BackendException.Code.UNAVAILABLE,
            "Failed to publish version "
                + version
                + " of model '"
                + model
                + "' on any endpoint of "
                + client.endpointNames()
                + (firstFailure == null
                    ? ": every endpoint is ejected as unhealthy"
                    : ", the first failure: " + firstFailure.getMessage()),
            firstFailure);
      }
      long served = o.served.values().iterator().next();
      out.put(role, new ModelVersion(model, version == 0 ? 0 : served));
      pruneShared(model);
    }
    if (tolerant) {
      catchUp();
    }
    return out;
  }

  /**
   * Writes one role's files and loads them on each endpoint in turn (version 0: waits for the
   * servers' own weights to be ready). Failures of an endpoint are recorded (tolerant) or end the
   * role's publish (the first one, recorded).
   */
  private RoleOutcome publishOnEndpoints(
      PolicyRole role, Map<String, Tensor> weights, long version) {
    String model = models.get(role);
    RoleOutcome outcome = new RoleOutcome();
    try (Prepared prepared = version == 0 ? null : prepare(model, weights, version)) {
      for (String endpoint : client.endpointNames()) {
        if (tolerant && ejected(endpoint)) {
          // unreachable now: it misses these weights and stays quarantined until a publish
          // reaches it
          outcome.skipped.put(endpoint, "ejected as unhealthy");
          continue;
        }
        try {
          outcome.served.put(
              endpoint,
              prepared == null ? awaitReady(endpoint, model, 0) : load(endpoint, prepared));
        } catch (BackendException e) {
          outcome.failed.put(endpoint, e);
          if (!tolerant) {
            break;
          }
        }
      }
    }
    return outcome;
  }

  /**
   * Deletes the oldest versions this publisher wrote to the shared repository for {@code model},
   * keeping the newest {@value #SHARED_VERSIONS_KEPT} (servers load only the newest; the one before
   * it may still finish requests). Versions it did not write are left alone.
   */
  private void pruneShared(String model) {
    ConcurrentLinkedDeque<Long> versions = writtenShared.get(model);
    if (versions == null || sharedRepository.isEmpty()) {
      return;
    }
    while (versions.size() > SHARED_VERSIONS_KEPT) {
      Long oldest = versions.pollFirst();
      if (oldest != null) {
        deleteQuietly(sharedRepository.get().resolve(model).resolve(Long.toString(oldest)));
      }
    }
  }

  /** The threads that load roles beside the caller's, created on first use. */
  private synchronized java.util.concurrent.ExecutorService loader() {
    if (loader == null) {
      loader =
          java.util.concurrent.Executors.newCachedThreadPool(
              r -> {
                Thread t = new Thread(r, "jbond-publish");
                t.setDaemon(true);
                return t;
              });
    }
    return loader;
  }

  /** Stops the threads that load roles concurrently; idempotent. The client stays open. */
  @Override
  public synchronized void close() {
    if (loader != null) {
      loader.shutdownNow();
      loader = null;
    }
  }

  /**
   * Returns the endpoints that hold stale weights of some role (tolerant publishers only): those a
   * publish could not reach, or that were ejected since, which a later publish will bring up to
   * date before returning them to traffic.
   *
   * @return endpoint name to the roles it holds stale weights of; empty when all are current
   */
  public Map<String, Set<PolicyRole>> staleEndpoints() {
    Map<String, Set<PolicyRole>> out = new LinkedHashMap<>();
    for (Map.Entry<String, Set<PolicyRole>> e : stale.entrySet()) {
      if (!e.getValue().isEmpty()) {
        out.put(e.getKey(), Collections.unmodifiableSet(EnumSet.copyOf(e.getValue())));
      }
    }
    return out;
  }

  /** An endpoint that is ejected may have restarted with its repository's weights: all stale. */
  private void noteEjectedEndpoints() {
    for (TritonEndpointStatus status : client.endpointStatuses()) {
      if (status.ejected()) {
        markStale(status.name(), "ejected as unhealthy: " + status.lastFailure().orElse("?"), null);
      }
    }
  }

  private boolean ejected(String endpoint) {
    for (TritonEndpointStatus status : client.endpointStatuses()) {
      if (status.name().equals(endpoint)) {
        return status.ejected();
      }
    }
    return false;
  }

  private Set<PolicyRole> staleRoles(String endpoint) {
    return stale.computeIfAbsent(endpoint, e -> EnumSet.noneOf(PolicyRole.class));
  }

  /**
   * Marks an endpoint's weights of every role this publisher has published, and of {@code also},
   * stale (a role it never published is the servers' own business), and quarantines it.
   */
  private void markStale(String endpoint, String reason, PolicyRole also) {
    Set<PolicyRole> roles = staleRoles(endpoint);
    roles.addAll(latest.keySet());
    if (also != null) {
      roles.add(also);
    }
    client.quarantine(endpoint, "weights not current (" + reason + ")");
  }

  /**
   * Brings every reachable endpoint with stale weights up to date with the latest published weights
   * of each role, and releases it from quarantine when nothing is stale any more. A role never
   * published here (the servers' own initial weights) is current once the model is ready.
   */
  private void catchUp() {
    for (TritonEndpointStatus status : client.endpointStatuses()) {
      String endpoint = status.name();
      Set<PolicyRole> roles = staleRoles(endpoint);
      if (status.ejected() || (roles.isEmpty() && status.quarantine().isEmpty())) {
        continue;
      }
      try {
        for (PolicyRole role : List.copyOf(roles)) {
          Published p = latest.get(role);
          String model = models.get(role);
          if (p == null || p.version() == 0) {
            awaitReady(endpoint, model, 0);
          } else {
            try (Prepared prepared = prepare(model, p.weights(), p.version())) {
              load(endpoint, prepared);
            }
          }
          roles.remove(role);
        }
        client.release(endpoint);
      } catch (BackendException e) {
        client.quarantine(endpoint, "weights not current (" + e.getMessage() + ")");
      }
    }
  }

  /** A model version written to a temporary directory, ready to load; closing deletes it. */
  private final class Prepared implements AutoCloseable {
    final String model;
    final String json;
    final Map<String, ByteString> files;
    private final Path temp;

    Prepared(String model, String json, Map<String, ByteString> files, Path temp) {
      this.model = model;
      this.json = json;
      this.files = files;
      this.temp = temp;
    }

    @Override
    public void close() {
      deleteQuietly(temp);
    }
  }

  /** Writes the files of a served version with {@code weights}. */
  private void writeFiles(Path target, Map<String, Tensor> weights) throws IOException {
    if (files != null) {
      files.writeServed(target, weights);
    } else {
      ModelDirectory.write(
          target, DecoderWeights.fromInitializers(decoder, weights), eosTokenId, padTokenId);
    }
  }

  private Prepared prepare(String model, Map<String, Tensor> weights, long version) {
    ModelConfig config = TrtLlmModelConfig.config(model, maxBatchSize, decoupled, profile);
    String json = TrtLlmModelConfig.toJson(config);
    Path temp = null;
    try {
      temp = Files.createTempDirectory("jbond-publish-");
      writeFiles(temp, weights);
      Map<String, ByteString> files = new LinkedHashMap<>();
      long total = 0;
      try (Stream<Path> list = Files.list(temp)) {
        for (Path file : list.sorted().toList()) {
          total += Files.size(file);
          if (total <= maxMessageBytes) {
            files.put(
                version + "/" + file.getFileName(), ByteString.copyFrom(Files.readAllBytes(file)));
          }
        }
      }
      if (total > maxMessageBytes) {
        files = Map.of();
        long size = total;
        Path shared =
            sharedRepository.orElseThrow(
                () ->
                    new BackendException(
                        BackendException.Code.RESOURCE_EXHAUSTED,
                        "Expected model files of at most "
                            + maxMessageBytes
                            + " bytes to publish model '"
                            + model
                            + "' in one message (or a shared repository), found "
                            + size
                            + " bytes",
                        null));
        writeFiles(shared.resolve(model).resolve(Long.toString(version)), weights);
        TrtLlmModelConfig.writeConfig(shared, config);
        writtenShared.computeIfAbsent(model, m -> new ConcurrentLinkedDeque<>()).add(version);
      }
      Prepared prepared = new Prepared(model, json, files, temp);
      temp = null;
      return prepared;
    } catch (IOException e) {
      throw new BackendException(
          BackendException.Code.INTERNAL,
          "Failed to write version " + version + " of model '" + model + "': " + e,
          e);
    } finally {
      if (temp != null) {
        deleteQuietly(temp);
      }
    }
  }

  /** Loads the model on one endpoint; returns the version number the endpoint serves it as. */
  private long load(String endpoint, Prepared prepared) {
    String model = prepared.model;
    String json = prepared.json;
    Map<String, ByteString> files = prepared.files;
    TritonCallOptions options =
        TritonCallOptions.defaults().withDeadline(loadDeadline).onEndpoint(endpoint);
    if (unloadFirst) {
      await(client.unloadModel(model, false, options), "unload model '" + model + "'", endpoint);
      long end = System.nanoTime() + readyTimeout.toNanos();
      while (unloading(endpoint, model, options)) {
        pause(end, "model '" + model + "' to leave state UNLOADING", endpoint);
      }
    }
    await(
        client.loadModel(model, Optional.of(json), files, options),
        "load model '" + model + "'",
        endpoint);
    awaitReady(endpoint, model, options);
    long served = -1;
    for (RepositoryIndexResponse.ModelIndex index :
        await(client.repositoryIndex("", true, options), "list models", endpoint)) {
      if (index.getName().equals(model) && !index.getVersion().isEmpty()) {
        try {
          served = Math.max(served, Long.parseLong(index.getVersion()));
        } catch (NumberFormatException e) {
          throw new BackendException(
              BackendException.Code.INTERNAL,
              "Expected a numeric version of model '"
                  + model
                  + "' in the repository index of endpoint '"
                  + endpoint
                  + "', found '"
                  + index.getVersion()
                  + "'",
              e);
        }
      }
    }
    if (served < 0) {
      throw new BackendException(
          BackendException.Code.INTERNAL,
          "Expected model '"
              + model
              + "' to be READY in the repository index of endpoint '"
              + endpoint
              + "' after loading it, found no ready version",
          null);
    }
    return served;
  }

  private long awaitReady(String endpoint, String model, long version) {
    awaitReady(
        endpoint,
        model,
        TritonCallOptions.defaults().withDeadline(loadDeadline).onEndpoint(endpoint));
    return version;
  }

  private void awaitReady(String endpoint, String model, TritonCallOptions options) {
    long end = System.nanoTime() + readyTimeout.toNanos();
    while (!Boolean.TRUE.equals(
        await(client.modelReady(model, "", options), "check model '" + model + "'", endpoint))) {
      pause(end, "model '" + model + "' to become ready", endpoint);
    }
  }

  private boolean unloading(String endpoint, String model, TritonCallOptions options) {
    List<RepositoryIndexResponse.ModelIndex> index =
        await(client.repositoryIndex("", false, options), "list models", endpoint);
    return index.stream()
        .anyMatch(m -> m.getName().equals(model) && m.getState().equals("UNLOADING"));
  }

  private static void pause(long end, String what, String endpoint) {
    if (System.nanoTime() > end) {
      throw new BackendException(
          BackendException.Code.DEADLINE_EXCEEDED,
          "Timed out waiting for " + what + " on endpoint '" + endpoint + "'",
          null);
    }
    try {
      Thread.sleep(5);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BackendException(
          BackendException.Code.UNAVAILABLE,
          "Interrupted while waiting for " + what + " on endpoint '" + endpoint + "'",
          e);
    }
  }

  private <T> T await(CompletableFuture<T> future, String what, String endpoint) {
    try {
      return future.get(loadDeadline.toNanos() * 2, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      future.cancel(false);
      throw new BackendException(
          BackendException.Code.UNAVAILABLE,
          "Interrupted while trying to " + what + " on endpoint '" + endpoint + "'",
          e);
    } catch (TimeoutException e) {
      future.cancel(false);
      throw new BackendException(
          BackendException.Code.DEADLINE_EXCEEDED,
          "Timed out trying to " + what + " on endpoint '" + endpoint + "'",
          e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof BackendException backend) {
        throw new BackendException(
            backend.code(),
            "Failed to " + what + " on endpoint '" + endpoint + "': " + backend.getMessage(),
            backend);
      }
      throw new BackendException(
          BackendException.Code.INTERNAL,
          "Failed to " + what + " on endpoint '" + endpoint + "': " + cause,
          cause);
    }
  }

  private static void deleteQuietly(Path root) {
    try (Stream<Path> walk = Files.walk(root)) {
      List<Path> paths = new ArrayList<>(walk.sorted(Comparator.reverseOrder()).toList());
      for (Path path : paths) {
        Files.deleteIfExists(path);
      }
    } catch (IOException | UncheckedIOException e) {
      // best effort: a leftover temporary directory is harmless
    }
  }

  /** Returns the models, transport and limits. */
  @Override
  public String toString() {
    return "TritonWeightPublisher "
        + models
        + " endpoints="
        + client.endpointNames()
        + " maxMessageBytes="
        + maxMessageBytes
        + " sharedRepository="
        + sharedRepository.map(Path::toString).orElse("none")
        + " unloadFirst="
        + unloadFirst;
  }

  /**
   * Builds a {@link TritonWeightPublisher}. Required: the client and the decoder architecture
   * (arguments of {@link TritonWeightPublisher#builder}).
   */
  public static final class Builder {
    private final TritonClient client;
    private final DecoderConfig decoder;
    private final PolicyFiles files;
    private TensorProfile profile = TensorProfile.trtLlm();
    private final Map<PolicyRole, String> models = new EnumMap<>(PolicyRole.class);
    private OptionalInt eosTokenId = OptionalInt.empty();
    private OptionalInt padTokenId = OptionalInt.empty();
    private boolean decoupled;
    private int maxBatchSize = 64;
    private long maxMessageBytes = 64L << 20;
    private Optional<Path> sharedRepository = Optional.empty();
    private boolean unloadFirst;
    private Duration loadDeadline = Duration.ofMinutes(2);
    private Duration readyTimeout = Duration.ofMinutes(2);
    private boolean tolerant;

    private Builder(TritonClient client, DecoderConfig decoder, PolicyFiles files) {
      this.client = Objects.requireNonNull(client, "client");
      this.decoder = decoder;
      this.files = files;
      for (PolicyRole role : PolicyRole.values()) {
        models.put(role, "jbond-" + role.label());
      }
    }

    /**
     * Sets the Triton model of a role. Default {@code "jbond-" + role.label()}.
     *
     * @param role the role
     * @param model the model name, non-empty
     * @return this builder
     */
    public Builder optModelName(PolicyRole role, String model) {
      Objects.requireNonNull(role, "role");
      if (Objects.requireNonNull(model, "model").isEmpty()) {
        throw new IllegalArgumentException(
            "Expected a non-empty model name for role '" + role.label() + "'");
      }
      models.put(role, model);
      return this;
    }

    /**
     * Sets the tensor profile of the published configuration. Default {@link
     * TensorProfile#trtLlm()}.
     *
     * @param profile the profile
     * @return this builder
     */
    public Builder optProfile(TensorProfile profile) {
      this.profile = Objects.requireNonNull(profile, "profile");
      return this;
    }

    /**
     * Sets the special tokens recorded in the published model directory. Default none.
     *
     * @param eosTokenId the EOS id, when known
     * @param padTokenId the pad id, when known
     * @return this builder
     */
    public Builder optSpecialTokens(OptionalInt eosTokenId, OptionalInt padTokenId) {
      this.eosTokenId = Objects.requireNonNull(eosTokenId, "eosTokenId");
      this.padTokenId = Objects.requireNonNull(padTokenId, "padTokenId");
      return this;
    }

    /**
     * Sets whether the published configuration is decoupled. Default false.
     *
     * @param decoupled whether the model answers over ModelStreamInfer only
     * @return this builder
     */
    public Builder optDecoupled(boolean decoupled) {
      this.decoupled = decoupled;
      return this;
    }

    /**
     * Sets {@code max_batch_size} of the published configuration. Default 64.
     *
     * @param size the largest batch per request, {@code >= 1}
     * @return this builder
     */
    public Builder optMaxBatchSize(int size) {
      if (size < 1) {
        throw new IllegalArgumentException("Expected max_batch_size >= 1, found " + size);
      }
      this.maxBatchSize = size;
      return this;
    }

    /**
     * Sets the largest total size of files sent as {@code file:} overrides in one
     * RepositoryModelLoad. Default 64 MiB.
     *
     * @param bytes the limit, {@code >= 0} (0: never send files)
     * @return this builder
     */
    public Builder optMaxMessageBytes(long bytes) {
      if (bytes < 0) {
        throw new IllegalArgumentException("Expected maxMessageBytes >= 0, found " + bytes);
      }
      this.maxMessageBytes = bytes;
      return this;
    }

    /**
     * Sets a model repository the servers read, for models too large for one message. Default none.
     *
     * @param repository the repository root, as this process sees it
     * @return this builder
     */
    public Builder optSharedRepository(Path repository) {
      this.sharedRepository = Optional.of(Objects.requireNonNull(repository, "repository"));
      return this;
    }

    /**
     * Sets whether to unload the model before loading the new version. Default false (hot swap).
     *
     * @param unloadFirst whether to unload first
     * @return this builder
     */
    public Builder optUnloadFirst(boolean unloadFirst) {
      this.unloadFirst = unloadFirst;
      return this;
    }

    /**
     * Sets the deadline of each repository call, and how long to wait for readiness. Default 2
     * minutes each.
     *
     * @param loadDeadline the deadline of each load, unload or index call, {@code > 0}
     * @param readyTimeout how long to wait for ModelReady or the end of UNLOADING, {@code > 0}
     * @return this builder
     */
    public Builder optTimeouts(Duration loadDeadline, Duration readyTimeout) {
      for (Duration d : List.of(loadDeadline, readyTimeout)) {
        if (d.isNegative() || d.isZero()) {
          throw new IllegalArgumentException("Expected timeouts > 0, found " + d);
        }
      }
      this.loadDeadline = loadDeadline;
      this.readyTimeout = readyTimeout;
      return this;
    }

    /**
     * Sets whether a publish may succeed without every endpoint. Default false: any endpoint's
     * failure fails the publish.
     *
     * <p>When true, a publish succeeds when at least one endpoint took the weights. An endpoint
     * that did not (or that the client ejected as unhealthy: it may come back restarted, serving
     * its repository's weights) is quarantined in the client ({@link TritonClient#quarantine}), so
     * no sample comes from stale weights; every later publish first tries to bring it up to date
     * with the latest weights of every role, then releases it. The publisher then keeps the latest
     * weights of each role in memory.
     *
     * @param tolerant whether to tolerate endpoint failures
     * @return this builder
     */
    public Builder optTolerateEndpointFailures(boolean tolerant) {
      this.tolerant = tolerant;
      return this;
    }

    /**
     * Returns the publisher.
     *
     * @return the publisher; closing it leaves the client open
     */
    public TritonWeightPublisher build() {
      return new TritonWeightPublisher(this);
    }
  }
}
