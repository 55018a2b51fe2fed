package dev.jbond.serving.embedded;

import com.google.protobuf.ByteString;
import dev.jbond.onnx.ModelLoadException;
import dev.jbond.onnx.graph.ModelFiles;
import dev.jbond.onnx.ort.OrtModelSession;
import dev.jbond.onnx.ort.OrtSessions;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.serving.triton.proto.ModelConfig;
import dev.jbond.serving.triton.proto.ModelInstanceGroup;
import dev.jbond.serving.triton.proto.ModelParameter;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * Loads, swaps and unloads the server's models, and hands out retained {@link LoadedVersion}s to
 * requests.
 *
 * <h2>Loads</h2>
 *
 * A load reads the model from the repository (or, with file overrides, from a fresh temporary
 * directory holding only those files and the given configuration, as Triton does), opens every
 * selected version, and only then swaps them in: new requests go to the new versions at once,
 * requests already admitted finish on the old ones, which close after their last request. A failed
 * load leaves what was serving in place. Loads and unloads of one model are serialised; different
 * models load independently, and inference never waits for a load.
 *
 * <h2>Version numbers</h2>
 *
 * A version keeps the number the model's previous load gave its directory when its content is
 * unchanged. Otherwise it is served under its directory number if that is above every number the
 * model has served in this server's lifetime, and else under a fresh number one above the highest.
 * Content is the SHA-256 fingerprint of the version directory's files and the configuration's
 * {@code parameters} (which may point at weights elsewhere). So every load that changes weights,
 * including a return to earlier weights, shows a new {@code model_version} in the responses. A load
 * with no override whose configuration and fingerprints equal what is serving does nothing, as in
 * Triton.
 */
final class ModelManager implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(ModelManager.class.getName());

  /** Everything a load needs besides the model. */
  record Settings(
      SessionConfig sessionConfig,
      int queueCapacity,
      Duration defaultMaxQueueDelay,
      int defaultMaxBatchSize,
      Executor executor,
      ScheduledExecutorService scheduler,
      InstantSource clock,
      EmbeddedServerListener listener,
      Optional<GenerationModelFactory> generationFactory) {}

  /** The versions of one model that serve requests, ascending by number. */
  private record Serving(List<LoadedVersion> versions) {
    LoadedVersion latest() {
      return versions.get(versions.size() - 1);
    }
  }

  /** The number and fingerprint the previous load gave a version directory. */
  private record Previous(long number, String fingerprint) {}

  private static final class Entry {
    final String name;
    final ReentrantLock loadLock = new ReentrantLock();
    volatile Serving serving;
    volatile ModelState state = ModelState.UNAVAILABLE;
    volatile String reason = "not loaded";
    volatile boolean loading;
    volatile boolean unloaded;
    // guarded by loadLock
    final Map<Long, Previous> previousLoad = new TreeMap<>();
    long maxServed;
    ModelConfig sourceConfig;
    boolean sourceOverridden;

    Entry(String name) {
      this.name = name;
    }
  }

  private final ModelRepository repository;
  private final Settings settings;
  private final Path tempRoot;
  private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
  private final AtomicInteger overrideLoads = new AtomicInteger();

  ModelManager(ModelRepository repository, Settings settings) throws IOException {
    this.repository = repository;
    this.settings = settings;
    this.tempRoot = Files.createTempDirectory("jbond-serve-");
  }

  /** The repository. */
  ModelRepository repository() {
    return repository;
  }

  /**
   * Loads every model of the repository; failures are recorded in the index, not thrown.
   *
   * @return the index afterwards
   * @throws IOException when the repository cannot be listed
   */
  List<ModelStatus> loadAll() throws IOException {
    for (String name : repository.modelNames()) {
      try {
        load(name, Optional.empty(), Map.of());
      } catch (ModelLoadException | RuntimeException e) {
        LOG.log(
            System.Logger.Level.WARNING, "Model ''{0}'' failed to load: {1}", name, e.getMessage());
      }
    }
    return index(false);
  }

  /**
   * Loads or reloads a model and returns once it serves (or has failed to load).
   *
   * @param name the model name
   * @param config a configuration replacing {@code config.pbtxt}, or empty
   * @param files file overrides by path relative to the model directory ({@code "1/model.onnx"});
   *     when non-empty, {@code config} is required and the repository is not read
   * @throws ModelLoadException when the model cannot be read or its configuration does not fit it
   * @throws StatusRuntimeException INVALID_ARGUMENT for a bad override path
   * @throws dev.jbond.BackendException when ONNX Runtime rejects the model
   */
  void load(String name, Optional<ModelConfig> config, Map<String, ByteString> files)
      throws ModelLoadException {
    if (files.isEmpty() && !repository.contains(name)) {
      repository.read(name, config); // throws, naming the models the repository has
    }
    Entry entry = entries.computeIfAbsent(name, Entry::new);
    entry.loadLock.lock();
    try {
      loadLocked(entry, config, files);
    } finally {
      entry.loadLock.unlock();
    }
  }

  private void loadLocked(Entry entry, Optional<ModelConfig> config, Map<String, ByteString> files)
      throws ModelLoadException {
    String name = entry.name;
    Path overrideDir = null;
    List<LoadedVersion> opened = new ArrayList<>();
    boolean wasServing = entry.serving != null;
    try {
      ModelSource source;
      if (!files.isEmpty()) {
        overrideDir = writeOverrides(name, files);
        source = ModelRepository.readDirectory(name, overrideDir, config);
      } else {
        source = repository.read(name, config);
      }
      List<String> prints = new ArrayList<>();
      for (ModelVersionDirectory version : source.versions()) {
        prints.add(fingerprint(source.config(), version.directory()));
      }
      if (wasServing
          && files.isEmpty()
          && config.isEmpty()
          && !entry.sourceOverridden
          && source.config().equals(entry.sourceConfig)
          && sameVersions(entry, source, prints)) {
        LOG.log(System.Logger.Level.INFO, "Model ''{0}'' unchanged, not reloaded", name);
        return;
      }
      if (!wasServing) {
        entry.state = ModelState.LOADING;
        entry.reason = "";
      }
      entry.loading = true;

      long next = entry.maxServed;
      for (ModelVersionDirectory version : source.versions()) {
        next = Math.max(next, version.version());
      }
      List<Long> numbers = new ArrayList<>();
      for (int i = 0; i < source.versions().size(); i++) {
        long directory = source.versions().get(i).version();
        Previous previous = entry.previousLoad.get(directory);
        if (previous != null && previous.fingerprint().equals(prints.get(i))) {
          numbers.add(previous.number());
        } else if (directory > entry.maxServed) {
          numbers.add(directory);
        } else {
          numbers.add(++next);
        }
      }

      Cleanup cleanup = new Cleanup(overrideDir, source.versions().size());
      for (int i = 0; i < source.versions().size(); i++) {
        opened.add(open(source, source.versions().get(i), numbers.get(i), prints.get(i), cleanup));
      }
      opened.sort(Comparator.comparingLong(v -> v.number));

      Serving old = entry.serving;
      entry.serving = new Serving(List.copyOf(opened));
      entry.state = ModelState.READY;
      entry.reason = "";
      entry.unloaded = false;
      entry.sourceConfig = source.config();
      entry.sourceOverridden = !files.isEmpty();
      entry.previousLoad.clear();
      for (int i = 0; i < source.versions().size(); i++) {
        entry.previousLoad.put(
            source.versions().get(i).version(), new Previous(numbers.get(i), prints.get(i)));
        entry.maxServed = Math.max(entry.maxServed, numbers.get(i));
      }
      overrideDir = null; // owned by the versions now
      opened.clear();
      for (LoadedVersion version : entry.serving.versions()) {
        LOG.log(
            System.Logger.Level.INFO,
            "Model ''{0}'' version {1} ready ({2})",
            name,
            version.number,
            version.kind);
        settings.listener().versionLoaded(name, version.number);
      }
      if (old != null) {
        old.versions().forEach(LoadedVersion::retire);
      }
    } catch (ModelLoadException | RuntimeException e) {
      for (LoadedVersion version : opened) {
        version.retire();
      }
      if (!wasServing) {
        entry.state = ModelState.UNAVAILABLE;
        entry.reason = e.getMessage();
      }
      throw e;
    } finally {
      entry.loading = false;
      if (overrideDir != null) {
        deleteRecursively(overrideDir);
      }
    }
  }

  /** Whether the serving versions are exactly the source's, with unchanged content. */
  private static boolean sameVersions(Entry entry, ModelSource source, List<String> prints) {
    Serving serving = entry.serving;
    if (serving.versions().size() != prints.size()) {
      return false;
    }
    for (int i = 0; i < prints.size(); i++) {
      Previous previous = entry.previousLoad.get(source.versions().get(i).version());
      if (previous == null || !previous.fingerprint().equals(prints.get(i))) {
        return false;
      }
      boolean served = false;
      for (LoadedVersion version : serving.versions()) {
        served |= version.number == previous.number();
      }
      if (!served) {
        return false;
      }
    }
    return true;
  }

  private LoadedVersion open(
      ModelSource source,
      ModelVersionDirectory version,
      long number,
      String fingerprint,
      Cleanup cleanup)
      throws ModelLoadException {
    String name = source.name();
    ModelConfigs.Kind kind = ModelConfigs.kind(name, source.config());
    Runnable onClosed =
        () -> {
          LOG.log(System.Logger.Level.INFO, "Model ''{0}'' version {1} closed", name, number);
          try {
            settings.listener().versionClosed(name, number);
          } finally {
            cleanup.release();
          }
        };
    if (kind == ModelConfigs.Kind.GENERATION) {
      GenerationModelFactory factory =
          settings
              .generationFactory()
              .orElseThrow(
                  () ->
                      new ModelLoadException(
                          "Model '"
                              + name
                              + "' version "
                              + version.version()
                              + ": expected a GenerationModelFactory for backend '"
                              + GenerationModel.BACKEND
                              + "' (EmbeddedTritonServer.Builder.optGenerationModelFactory),"
                              + " found none"));
      ModelConfig config = factory.complete(source.config().toBuilder().setName(name).build());
      GenerationModel model = factory.create(config, version);
      if (model == null) {
        throw new ModelLoadException(
            "Model '" + name + "' version " + version.version() + ": the factory returned null");
      }
      return LoadedVersion.generation(name, number, config, fingerprint, model, onClosed);
    }

    Path file = ModelRepository.onnxFile(name, source.config(), version);
    ModelConfig config;
    try {
      config =
          ModelConfigs.completeOnnx(
              name,
              version.version(),
              source.config(),
              source.configWritten(),
              ModelFiles.parse(file),
              settings.defaultMaxBatchSize());
    } catch (ModelLoadException e) {
      throw e;
    } catch (IOException e) {
      throw new ModelLoadException(
          "Model '" + name + "' version " + version.version() + ": cannot read " + file, e);
    }
    OrtModelSession session = OrtSessions.open(file, settings.sessionConfig());
    try {
      boolean dynamic = config.getMaxBatchSize() > 0 && config.hasDynamicBatching();
      long delayMicros =
          config.hasDynamicBatching()
              ? config.getDynamicBatching().getMaxQueueDelayMicroseconds()
              : 0;
      Duration delay =
          delayMicros > 0 ? Duration.ofNanos(delayMicros * 1000) : settings.defaultMaxQueueDelay();
      int queueSize =
          config.hasDynamicBatching()
                  && config.getDynamicBatching().getDefaultQueuePolicy().getMaxQueueSize() > 0
              ? config.getDynamicBatching().getDefaultQueuePolicy().getMaxQueueSize()
              : settings.queueCapacity();
      int instances = 0;
      for (ModelInstanceGroup group : config.getInstanceGroupList()) {
        instances += Math.max(1, group.getCount());
      }
      DynamicBatcher batcher =
          new DynamicBatcher(
              name,
              number,
              session::run,
              dynamic ? config.getMaxBatchSize() : 0,
              queueSize,
              delay,
              Math.max(1, instances),
              settings.executor(),
              settings.scheduler(),
              settings.clock(),
              settings.listener());
      return LoadedVersion.onnx(name, number, config, fingerprint, session, batcher, onClosed);
    } catch (RuntimeException e) {
      session.close();
      throw e;
    }
  }

  /**
   * Unloads a model: new requests fail with NOT_FOUND at once, admitted ones finish, and then its
   * versions close.
   *
   * @param name the model name
   * @throws StatusRuntimeException NOT_FOUND when the server has never seen the model
   */
  void unload(String name) {
    Entry entry = entries.get(name);
    if (entry == null) {
      throw ServerErrors.notFound(
          "Model '" + name + "' to be unloaded has not been served, loaded models: " + loaded());
    }
    entry.loadLock.lock();
    try {
      Serving old = entry.serving;
      entry.serving = null;
      entry.state = ModelState.UNAVAILABLE;
      entry.reason = "unloaded";
      entry.unloaded = true;
      if (old != null) {
        old.versions().forEach(LoadedVersion::retire);
      }
    } finally {
      entry.loadLock.unlock();
    }
  }

  /**
   * Returns a version for a request, retained: the caller must {@link LoadedVersion#release()} it
   * after the request's last response.
   *
   * @param name the model name
   * @param version the version number as text, or empty for the latest served version
   * @return the retained version
   * @throws StatusRuntimeException NOT_FOUND for an unknown model or version, INVALID_ARGUMENT for
   *     a version that is not a number
   */
  LoadedVersion acquire(String name, String version) {
    while (true) {
      LoadedVersion found = find(name, version);
      if (found.tryRetain()) {
        return found;
      }
    }
  }

  /**
   * Returns a serving version without retaining it (for metadata).
   *
   * @param name the model name
   * @param version the version number as text, or empty for the latest served version
   * @return the version
   * @throws StatusRuntimeException as {@link #acquire}
   */
  LoadedVersion find(String name, String version) {
    Entry entry = entries.get(name);
    Serving serving = entry == null ? null : entry.serving;
    if (serving == null) {
      throw ServerErrors.notFound(
          "Request for unknown model: '"
              + name
              + (entry == null ? "' is not found" : "' has no available versions"));
    }
    if (version.isEmpty()) {
      return serving.latest();
    }
    long number;
    try {
      number = Long.parseLong(version);
    } catch (NumberFormatException e) {
      throw ServerErrors.invalidArgument(
          "Expected a numeric model version for model '" + name + "', found '" + version + "'");
    }
    for (LoadedVersion candidate : serving.versions()) {
      if (candidate.number == number) {
        return candidate;
      }
    }
    List<Long> available = new ArrayList<>();
    serving.versions().forEach(v -> available.add(v.number));
    throw ServerErrors.notFound(
        "Request for unknown model: '"
            + name
            + "' version "
            + version
            + " is not found, available versions: "
            + available);
  }

  /**
   * Returns the served version numbers of a model, ascending.
   *
   * @param name the model name
   * @return the numbers, empty when the model does not serve
   */
  List<Long> versions(String name) {
    Entry entry = entries.get(name);
    Serving serving = entry == null ? null : entry.serving;
    List<Long> numbers = new ArrayList<>();
    if (serving != null) {
      serving.versions().forEach(v -> numbers.add(v.number));
    }
    return numbers;
  }

  /**
   * Returns whether every model that should serve does: none is loading, and none failed to load
   * (Triton's strict readiness). Unloaded models do not count.
   */
  boolean allReady() {
    for (Entry entry : entries.values()) {
      if (entry.loading || (!entry.unloaded && entry.state != ModelState.READY)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Returns the index: every model of the repository and every model loaded from overrides, one row
   * per served version, or one row with the model's state when it serves none.
   *
   * @param readyOnly whether to list only READY rows
   * @return the rows, by model name then version
   */
  List<ModelStatus> index(boolean readyOnly) {
    TreeSet<String> names = new TreeSet<>(entries.keySet());
    try {
      names.addAll(repository.modelNames());
    } catch (IOException e) {
      throw new UncheckedIOException(
          "Cannot list model repository " + repository.root() + ": " + e.getMessage(), e);
    }
    List<ModelStatus> rows = new ArrayList<>();
    for (String name : names) {
      Entry entry = entries.get(name);
      Serving serving = entry == null ? null : entry.serving;
      if (serving != null) {
        for (LoadedVersion version : serving.versions()) {
          rows.add(new ModelStatus(name, OptionalLong.of(version.number), ModelState.READY, ""));
        }
      } else if (!readyOnly) {
        rows.add(
            entry == null
                ? new ModelStatus(name, OptionalLong.empty(), ModelState.UNAVAILABLE, "not loaded")
                : new ModelStatus(name, OptionalLong.empty(), entry.state, entry.reason));
      }
    }
    return rows;
  }

  private List<String> loaded() {
    List<String> names = new ArrayList<>();
    entries.forEach(
        (name, entry) -> {
          if (entry.serving != null) {
            names.add(name);
          }
        });
    names.sort(null);
    return names;
  }

  /**
   * Stops serving every model: queued requests fail with UNAVAILABLE, versions close once their
   * running batches end, and the temporary directories of file overrides are deleted. Idempotent.
   */
  @Override
  public void close() {
    for (Entry entry : entries.values()) {
      entry.loadLock.lock();
      try {
        Serving old = entry.serving;
        entry.serving = null;
        entry.state = ModelState.UNAVAILABLE;
        entry.reason = "server closed";
        entry.unloaded = true;
        if (old != null) {
          for (LoadedVersion version : old.versions()) {
            if (version.batcher() != null) {
              version.batcher().close();
            }
            version.retire();
          }
        }
      } finally {
        entry.loadLock.unlock();
      }
    }
    deleteRecursively(tempRoot);
  }

  // ---- file overrides ----

  private Path writeOverrides(String name, Map<String, ByteString> files) {
    Path dir = tempRoot.resolve(name + "-" + overrideLoads.incrementAndGet());
    try {
      Files.createDirectories(dir);
      for (Map.Entry<String, ByteString> file : new TreeMap<>(files).entrySet()) {
        Path relative;
        try {
          relative = Path.of(file.getKey());
        } catch (java.nio.file.InvalidPathException e) {
          throw badPath(name, file.getKey());
        }
        Path target = dir.resolve(relative).normalize();
        if (file.getKey().isEmpty()
            || relative.isAbsolute()
            || !target.startsWith(dir)
            || target.equals(dir)) {
          throw badPath(name, file.getKey());
        }
        Path parent = target.getParent();
        if (Files.exists(parent) && !Files.isDirectory(parent)) {
          throw ServerErrors.invalidArgument(
              "Expected a directory as the parent of load parameter 'file:"
                  + file.getKey()
                  + "' of model '"
                  + name
                  + "', found a file");
        }
        Files.createDirectories(parent);
        try (var out = Files.newOutputStream(target)) {
          file.getValue().writeTo(out);
        }
      }
      return dir;
    } catch (IOException e) {
      deleteRecursively(dir);
      throw new UncheckedIOException(
          "Cannot write the file overrides of model '" + name + "' to " + dir, e);
    } catch (RuntimeException e) {
      deleteRecursively(dir);
      throw e;
    }
  }

  private static StatusRuntimeException badPath(String name, String path) {
    return ServerErrors.invalidArgument(
        "Expected a relative path inside the model directory for load parameter 'file:"
            + path
            + "' of model '"
            + name
            + "', found '"
            + path
            + "'");
  }

  /** Deletes an override directory once every version loaded from it has closed. */
  private static final class Cleanup {
    private final Path dir;
    private final AtomicInteger remaining;

    Cleanup(Path dir, int versions) {
      this.dir = dir;
      this.remaining = new AtomicInteger(versions);
    }

    void release() {
      if (remaining.decrementAndGet() == 0 && dir != null) {
        deleteRecursively(dir);
      }
    }
  }

  static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "Cannot delete {0}: {1}", dir, e.getMessage());
    }
  }

  // ---- fingerprints ----

  /**
   * Returns the SHA-256 (hex) of a version directory's files (relative path and bytes, in path
   * order) and the configuration's parameters.
   */
  static String fingerprint(ModelConfig config, Path dir) throws ModelLoadException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("Expected SHA-256 in every JDK", e);
    }
    byte[] buffer = new byte[1 << 16];
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path file : walk.filter(Files::isRegularFile).sorted().toList()) {
        digest.update(dir.relativize(file).toString().getBytes(StandardCharsets.UTF_8));
        digest.update((byte) 0);
        try (InputStream in = Files.newInputStream(file)) {
          for (int n = in.read(buffer); n > 0; n = in.read(buffer)) {
            digest.update(buffer, 0, n);
          }
        }
        digest.update((byte) 0);
      }
    } catch (IOException e) {
      throw new ModelLoadException("Cannot read version directory " + dir, e);
    }
    for (Map.Entry<String, ModelParameter> parameter :
        new TreeMap<>(config.getParametersMap()).entrySet()) {
      digest.update(parameter.getKey().getBytes(StandardCharsets.UTF_8));
      digest.update((byte) 0);
      digest.update(parameter.getValue().getStringValue().getBytes(StandardCharsets.UTF_8));
      digest.update((byte) 0);
    }
    return HexFormat.of().formatHex(digest.digest());
  }
}
