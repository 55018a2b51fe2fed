package dev.jbond.onnx.train;

import dev.jbond.internal.Checks;
import dev.jbond.onnx.ModelLoadException;
import dev.jbond.onnx.autodiff.GradientBuilder;
import dev.jbond.onnx.graph.Dim;
import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.ModelFiles;
import dev.jbond.onnx.graph.Node;
import dev.jbond.onnx.graph.Shape;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.graph.Value;
import dev.jbond.onnx.ort.OptimizationLevel;
import dev.jbond.onnx.ort.OrtModelSession;
import dev.jbond.onnx.ort.OrtSessions;
import dev.jbond.onnx.ort.SessionConfig;
import dev.jbond.onnx.proto.ModelProto;
import dev.jbond.onnx.proto.StringStringEntryProto;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A causal language model in ONNX that meets the policy contract, with its trainable parameters
 * found. Immutable.
 *
 * <p>The contract (see the architecture notes, "Models: the ONNX contract"):
 *
 * <ul>
 *   <li>input {@value #INPUT_IDS}: INT64 {@code [batch, sequence]}, both axes dynamic;
 *   <li>optional inputs {@value #ATTENTION_MASK} (1 for real tokens, 0 for padding) and {@value
 *       #POSITION_IDS} ({@code 0, 1, ...} per row), INT64 {@code [batch, sequence]}; no other
 *       inputs (initializers that are also graph inputs, the IR&nbsp;3 style, count as weights);
 *   <li>output {@value #LOGITS}: FLOAT {@code [batch, sequence, vocabulary]}; other outputs are
 *       ignored.
 * </ul>
 *
 * <p>The vocabulary size is read from the logits of a probe run. The trainable parameters are the
 * FLOAT initializers with at least one element that reach the logits through differentiable inputs
 * ({@link GradientBuilder#parametersReaching}); everything else stays a frozen initializer, such as
 * a causal-mask buffer that only feeds {@code Slice} and {@code Equal}. FLOAT initializers that are
 * also graph inputs, and initializers of other float types, stay frozen too.
 *
 * <p>The context length, when known, comes from the model's metadata ({@code context_length},
 * {@code n_positions} or {@code max_position_embeddings}, as written by jbond's decoder builder and
 * Hugging Face exports).
 */
public final class PolicyModel {
  /** The token-id input. */
  public static final String INPUT_IDS = "input_ids";

  /** The optional attention-mask input. */
  public static final String ATTENTION_MASK = "attention_mask";

  /** The optional position-id input. */
  public static final String POSITION_IDS = "position_ids";

  /** The logits output. */
  public static final String LOGITS = "logits";

  /** The name of the model file inside a model directory that holds several files. */
  public static final String MODEL_FILE = "model.onnx";

  /** Metadata keys read for the context length, in order. */
  static final List<String> CONTEXT_KEYS =
      List.of("context_length", "n_positions", "max_position_embeddings");

  /**
   * Ops through which no parameter is trained: in causal LM exports {@code Cos} and {@code Sin}
   * compute rotary (or sinusoidal) position tables from a frequency buffer ({@code inv_freq}, often
   * constant-folded into an {@code onnx::Expand_*} initializer) that PyTorch keeps as a buffer.
   */
  static final Set<String> POSITION_ENCODING_OPS = Set.of("Cos", "Sin");

  private static final Set<String> TOKEN_INPUTS = Set.of(INPUT_IDS, ATTENTION_MASK, POSITION_IDS);

  private final String name;
  private final ModelProto proto;
  private final Optional<String> sha256;
  private final int vocabularySize;
  private final boolean attentionMask;
  private final boolean positionIds;
  private final List<ParameterSpec> parameters;
  private final List<ParameterSpec> frozenInputs;
  private final OptionalInt contextLength;
  private final List<String> ties;

  private PolicyModel(
      String name,
      ModelProto proto,
      Optional<String> sha256,
      int vocabularySize,
      boolean attentionMask,
      boolean positionIds,
      List<ParameterSpec> parameters,
      List<ParameterSpec> frozenInputs,
      OptionalInt contextLength,
      List<String> ties) {
    this.name = name;
    this.proto = proto;
    this.sha256 = sha256;
    this.vocabularySize = vocabularySize;
    this.attentionMask = attentionMask;
    this.positionIds = positionIds;
    this.parameters = List.copyOf(parameters);
    this.frozenInputs = List.copyOf(frozenInputs);
    this.contextLength = contextLength;
    this.ties = List.copyOf(ties);
  }

  /**
   * Loads a policy from a {@code .onnx} file or a model directory (its only {@code .onnx} file, or
   * {@value #MODEL_FILE} when there are several), with external data resolved next to the file.
   *
   * @param path the model file or directory
   * @return the model
   * @throws ModelLoadException when the path holds no model, or the model breaks the contract
   * @throws IOException when a file cannot be read
   * @throws dev.jbond.BackendException when ONNX Runtime cannot run the probe
   */
  public static PolicyModel load(Path path) throws IOException {
    Path file = resolve(path);
    ModelProto proto = ModelFiles.read(file);
    String name = file.getFileName().toString();
    try {
      return create(name, proto, Optional.of(sha256(file)));
    } catch (IllegalArgumentException e) {
      throw new ModelLoadException(e.getMessage(), e);
    }
  }

  /**
   * Returns the policy of an in-memory graph (copied).
   *
   * @param graph the model graph, tensor data inline
   * @param name the model name used in messages
   * @return the model
   * @throws IllegalArgumentException when the graph breaks the contract
   * @throws dev.jbond.BackendException when ONNX Runtime cannot run the probe
   */
  public static PolicyModel of(Graph graph, String name) {
    Objects.requireNonNull(graph, "graph");
    Objects.requireNonNull(name, "name");
    return create(name, graph.toModel(), Optional.empty());
  }

  private static PolicyModel create(String name, ModelProto file, Optional<String> sha256) {
    Graph graph = Graph.fromModel(file);
    checkIoContract(graph, name);
    List<String> ties = tieCopies(graph);
    ModelProto proto = ties.isEmpty() ? file : graph.toModel();
    boolean mask = graph.findValue(ATTENTION_MASK).map(Value::isGraphInput).orElse(false);
    boolean positions = graph.findValue(POSITION_IDS).map(Value::isGraphInput).orElse(false);
    List<Map<String, Tensor>> probes =
        List.of(probeFeed(2, 3, mask, positions), probeFeed(3, 4, mask, positions));
    // shape probes expose every intermediate value as an output, which graph optimisations cannot
    // remove (ONNX Runtime warns for each); a probe needs no optimisation
    SessionConfig probeConfig =
        SessionConfig.builder().optOptimizationLevel(OptimizationLevel.NONE).build();
    int vocabulary = probeVocabulary(graph, name, probes.get(0), probeConfig);

    List<String> candidates = new ArrayList<>();
    for (Map.Entry<String, Tensor> init : graph.initializers().entrySet()) {
      Tensor t = init.getValue();
      if (t.elementType() == ElementType.FLOAT
          && t.elementCount() >= 1
          && !graph.value(init.getKey()).isGraphInput()) {
        candidates.add(init.getKey());
      }
    }
    List<String> trainable =
        candidates.isEmpty()
            ? List.of()
            : GradientBuilder.parametersReaching(
                graph, LOGITS, candidates, probes, probeConfig, POSITION_ENCODING_OPS);
    Checks.checkArgument(
        !trainable.isEmpty(),
        "Expected FLOAT initializers that reach '%s' through differentiable ops in model '%s',"
            + " found none among %d FLOAT initializers",
        LOGITS,
        name,
        candidates.size());
    List<ParameterSpec> specs = new ArrayList<>();
    for (String p : trainable) {
      Tensor t = graph.initializers().get(p);
      for (long size : t.shape()) {
        Checks.checkArgument(
            size >= 1, "Expected parameter '%s' without empty axes in model '%s'", p, name);
      }
      specs.add(ParameterSpec.of(p, t.shape()));
    }
    return new PolicyModel(
        name,
        proto,
        sha256,
        vocabulary,
        mask,
        positions,
        specs,
        List.of(),
        contextLength(proto, name),
        ties);
  }

  /**
   * Ties weights that an export stored twice: a FLOAT matrix initializer equal to another one, or
   * to its transpose (a tied output embedding that constant folding turned into {@code
   * onnx::MatMul_*} = {@code wte.weight}ᵀ), is replaced by {@code Identity} or {@code Transpose} of
   * the first, so that training updates one tensor as PyTorch does. Matrices with fewer than two
   * distinct values (untrained zeros, ones) are never tied. Returns one line per tie.
   */
  private static List<String> tieCopies(Graph graph) {
    Map<Tensor, String> seen = new LinkedHashMap<>();
    Map<Tensor, String> seenTransposed = new LinkedHashMap<>();
    List<String> ties = new ArrayList<>();
    for (Map.Entry<String, Tensor> init : List.copyOf(graph.initializers().entrySet())) {
      Tensor t = init.getValue();
      String name = init.getKey();
      if (t.elementType() != ElementType.FLOAT
          || t.rank() != 2
          || graph.value(name).isGraphInput()
          || !varied(t)) {
        continue;
      }
      String copyOf = seen.get(t);
      String transposeOf = copyOf == null ? seenTransposed.get(t) : null;
      if (copyOf == null && transposeOf == null) {
        seen.put(t, name);
        seenTransposed.put(t.transposeMatrix(), name);
        continue;
      }
      Value source = graph.value(copyOf != null ? copyOf : transposeOf);
      Value tied = copyOf != null ? graph.op("Identity", source) : graph.op("Transpose", source);
      Value old = graph.value(name);
      for (Node consumer : List.copyOf(old.consumers())) {
        for (int i = 0; i < consumer.inputCount(); i++) {
          if (consumer.hasInput(i) && consumer.input(i) == old) {
            consumer.setInput(i, tied);
          }
        }
      }
      graph.removeInitializer(name);
      ties.add(
          name
              + (copyOf != null ? " = " + copyOf : " = transpose of " + transposeOf)
              + " (tied: trained as one tensor)");
    }
    return ties;
  }

  private static boolean varied(Tensor t) {
    float[] values = t.toFloatArray();
    for (float v : values) {
      if (Float.compare(v, values[0]) != 0) {
        return true;
      }
    }
    return false;
  }

  private static void checkIoContract(Graph graph, String name) {
    List<String> outputs = graph.outputs().stream().map(Value::name).toList();
    Checks.checkArgument(
        outputs.contains(LOGITS),
        "Expected an output named '%s' in model '%s', found %s",
        LOGITS,
        name,
        outputs);
    Value logits = graph.value(LOGITS);
    logits
        .elementType()
        .ifPresent(
            t ->
                Checks.checkArgument(
                    t == ElementType.FLOAT,
                    "Expected output '%s' of type FLOAT in model '%s', found %s",
                    LOGITS,
                    name,
                    t));
    Shape logitsShape = logits.shape();
    Checks.checkArgument(
        !logitsShape.isRankKnown() || logitsShape.rank() == 3,
        "Expected output '%s' of rank 3 ([batch, sequence, vocabulary]) in model '%s', found %s",
        LOGITS,
        name,
        logitsShape);
    List<String> inputs = new ArrayList<>();
    for (Value input : graph.inputs()) {
      if (input.isInitializer()) {
        continue;
      }
      inputs.add(input.name());
      Checks.checkArgument(
          TOKEN_INPUTS.contains(input.name()),
          "Expected model inputs among [%s, %s, %s] in model '%s', found input '%s'",
          INPUT_IDS,
          ATTENTION_MASK,
          POSITION_IDS,
          name,
          input.name());
      input
          .elementType()
          .ifPresent(
              t ->
                  Checks.checkArgument(
                      t == ElementType.INT64,
                      "Expected input '%s' of type INT64 in model '%s', found %s",
                      input.name(),
                      name,
                      t));
      Shape shape = input.shape();
      if (shape.isRankKnown()) {
        Checks.checkArgument(
            shape.rank() == 2,
            "Expected input '%s' of rank 2 ([batch, sequence]) in model '%s', found %s",
            input.name(),
            name,
            shape);
        for (Dim dim : shape.dims()) {
          Checks.checkArgument(
              !dim.isFixed(),
              "Expected dynamic batch and sequence axes on input '%s' in model '%s', found %s",
              input.name(),
              name,
              shape);
        }
      }
    }
    Checks.checkArgument(
        inputs.contains(INPUT_IDS),
        "Expected an input named '%s' in model '%s', found %s",
        INPUT_IDS,
        name,
        inputs);
  }

  private static int probeVocabulary(
      Graph graph, String name, Map<String, Tensor> feed, SessionConfig config) {
    Graph copy = Graph.fromModel(graph.toModel());
    for (Value out : List.copyOf(copy.outputs())) {
      if (!out.name().equals(LOGITS)) {
        copy.removeOutput(out);
      }
    }
    Tensor logits;
    try (OrtModelSession session = OrtSessions.open(copy, config)) {
      logits = session.run(feed, List.of(LOGITS)).get(LOGITS);
    }
    long[] shape = logits.shape();
    long[] batch = feed.get(INPUT_IDS).shape();
    Checks.checkArgument(
        logits.elementType() == ElementType.FLOAT
            && shape.length == 3
            && shape[0] == batch[0]
            && shape[1] == batch[1]
            && shape[2] >= 1
            && shape[2] <= Integer.MAX_VALUE,
        "Expected output '%s' FLOAT [%d, %d, vocabulary] for input '%s' [%d, %d] in model '%s',"
            + " found %s %s",
        LOGITS,
        batch[0],
        batch[1],
        INPUT_IDS,
        batch[0],
        batch[1],
        name,
        logits.elementType(),
        Arrays.toString(shape));
    return (int) shape[2];
  }

  /** A probe batch: token ids 0 and 1 (valid in any vocabulary of 2 or more), no padding. */
  static Map<String, Tensor> probeFeed(int batch, int steps, boolean mask, boolean positions) {
    long[] ids = new long[batch * steps];
    long[] ones = new long[batch * steps];
    long[] pos = new long[batch * steps];
    for (int b = 0; b < batch; b++) {
      for (int t = 0; t < steps; t++) {
        ids[b * steps + t] = (b + t) % 2;
        ones[b * steps + t] = 1;
        pos[b * steps + t] = t;
      }
    }
    long[] shape = {batch, steps};
    Map<String, Tensor> feed = new LinkedHashMap<>();
    feed.put(INPUT_IDS, Tensor.longs(shape, ids));
    if (mask) {
      feed.put(ATTENTION_MASK, Tensor.longs(shape, ones));
    }
    if (positions) {
      feed.put(POSITION_IDS, Tensor.longs(shape, pos));
    }
    return feed;
  }

  private static OptionalInt contextLength(ModelProto proto, String name) {
    for (String key : CONTEXT_KEYS) {
      for (StringStringEntryProto entry : proto.getMetadataPropsList()) {
        if (entry.getKey().equals(key)) {
          try {
            int value = Integer.parseInt(entry.getValue().strip());
            Checks.checkArgument(
                value >= 1,
                "Expected metadata '%s' >= 1 in model '%s', found %d",
                key,
                name,
                value);
            return OptionalInt.of(value);
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                "Expected an integer for metadata '"
                    + key
                    + "' in model '"
                    + name
                    + "', found '"
                    + entry.getValue()
                    + "'",
                e);
          }
        }
      }
    }
    return OptionalInt.empty();
  }

  private static Path resolve(Path path) throws IOException {
    Objects.requireNonNull(path, "path");
    Path absolute = path.toAbsolutePath();
    if (Files.isRegularFile(absolute)) {
      return absolute;
    }
    if (!Files.isDirectory(absolute)) {
      throw new ModelLoadException(
          "Expected a .onnx file or a model directory at '" + absolute + "', found nothing");
    }
    List<Path> models;
    try (Stream<Path> files = Files.list(absolute)) {
      models =
          files
              .filter(f -> f.getFileName().toString().endsWith(".onnx") && Files.isRegularFile(f))
              .sorted()
              .toList();
    }
    if (models.size() == 1) {
      return models.get(0);
    }
    Path named = absolute.resolve(MODEL_FILE);
    if (Files.isRegularFile(named)) {
      return named;
    }
    throw new ModelLoadException(
        "Expected one .onnx file or '"
            + MODEL_FILE
            + "' in model directory '"
            + absolute
            + "', found "
            + models.stream().map(p -> p.getFileName().toString()).toList());
  }

  private static String sha256(Path file) throws IOException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("Expected SHA-256 in every Java runtime, found none", e);
    }
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  /**
   * Returns the name used in messages: the file name, or the name given to {@link #of}.
   *
   * @return the model name
   */
  public String name() {
    return name;
  }

  /**
   * Returns the SHA-256 of the model file, as lower-case hex, when the model was loaded from one.
   *
   * @return the hash, or empty for in-memory graphs
   */
  public Optional<String> sha256() {
    return sha256;
  }

  /**
   * Returns the vocabulary size {@code V}, the last axis of the logits.
   *
   * @return {@code V}
   */
  public int vocabularySize() {
    return vocabularySize;
  }

  /**
   * Whether the model takes {@value #ATTENTION_MASK}.
   *
   * @return true when it does
   */
  public boolean hasAttentionMask() {
    return attentionMask;
  }

  /**
   * Whether the model takes {@value #POSITION_IDS}.
   *
   * @return true when it does
   */
  public boolean hasPositionIds() {
    return positionIds;
  }

  /**
   * Returns the trainable parameters, in the model's initializer order.
   *
   * @return the parameters
   */
  public List<ParameterSpec> parameters() {
    return parameters;
  }

  /**
   * Returns the frozen initializers a learner feeds as inputs, held once for all its sessions
   * (empty for models loaded from files).
   *
   * @return the frozen inputs, in order
   */
  public List<ParameterSpec> frozenInputs() {
    return frozenInputs;
  }

  /**
   * Returns the total number of trainable parameter elements.
   *
   * @return the count
   */
  public long parameterCount() {
    long count = 0;
    for (ParameterSpec p : parameters) {
      count += p.elementCount();
    }
    return count;
  }

  /**
   * Returns the most positions the model accepts, when its metadata says.
   *
   * @return the context length, or empty when unknown
   */
  public OptionalInt contextLength() {
    return contextLength;
  }

  /**
   * Returns a new, independent graph of the model (initial weights included).
   *
   * @return the graph
   */
  public Graph graph() {
    return Graph.fromModel(proto);
  }

  /**
   * Returns the weights the export stored twice and the learner trains as one tensor, one line each
   * (for example {@code onnx::MatMul_508 = transpose of wte.weight (tied: ...)}).
   *
   * @return the ties; empty for most models
   */
  public List<String> ties() {
    return ties;
  }

  /**
   * Returns this model with another graph of the same inputs, vocabulary and context whose trained
   * parameters are exactly {@code trainable}; every other initializer stays frozen. For graphs
   * derived from this model's, such as one with low-rank adapter branches ({@link
   * dev.jbond.onnx.lora.LoraPolicy}); the graph is not probed again.
   *
   * @param graph the graph; its output {@value #LOGITS} keeps this model's meaning
   * @param name the new model's name
   * @param trainable the names of FLOAT initializers of {@code graph} to train, in order
   * @return the model
   * @throws IllegalArgumentException when a name is not a FLOAT initializer of {@code graph}, or
   *     none is given
   */
  public PolicyModel withTrainable(Graph graph, String name, List<String> trainable) {
    return withTrainable(graph, name, trainable, List.of());
  }

  /**
   * Returns this model with another graph as {@link #withTrainable(Graph, String, List)} does,
   * whose {@code frozen} initializers the learner holds once and feeds as inputs to each of its
   * sessions (the frozen base of adapters, which each session would otherwise hold a copy of).
   *
   * @param graph the graph; its output {@value #LOGITS} keeps this model's meaning
   * @param name the new model's name
   * @param trainable the names of FLOAT initializers of {@code graph} to train, in order
   * @param frozen names of other FLOAT initializers of {@code graph}, fed but never trained
   * @return the model
   * @throws IllegalArgumentException when a name is not a FLOAT initializer of {@code graph}, a
   *     frozen one is also trained, or no trained one is given
   */
  public PolicyModel withTrainable(
      Graph graph, String name, List<String> trainable, List<String> frozen) {
    Objects.requireNonNull(graph, "graph");
    Objects.requireNonNull(name, "name");
    Checks.checkArgument(
        !trainable.isEmpty(), "Expected at least one trainable parameter for model '%s'", name);
    List<ParameterSpec> specs = new ArrayList<>();
    for (String p : trainable) {
      Tensor t = graph.initializer(p).orElse(null);
      Checks.checkArgument(
          t != null && t.elementType() == ElementType.FLOAT,
          "Expected FLOAT initializer '%s' to train in model '%s', found %s",
          p,
          name,
          t == null ? "none" : t.elementType());
      specs.add(ParameterSpec.of(p, t.shape()));
    }
    List<ParameterSpec> held = new ArrayList<>();
    for (String p : frozen) {
      Tensor t = graph.initializer(p).orElse(null);
      Checks.checkArgument(
          t != null && t.elementType() == ElementType.FLOAT && !trainable.contains(p),
          "Expected frozen FLOAT initializer '%s' (not trained) in model '%s', found %s",
          p,
          name,
          t == null ? "none" : trainable.contains(p) ? "a trained one" : t.elementType());
      held.add(ParameterSpec.of(p, t.shape()));
    }
    return new PolicyModel(
        name,
        graph.toModel(),
        Optional.empty(),
        vocabularySize,
        attentionMask,
        positionIds,
        specs,
        held,
        contextLength,
        ties);
  }

  /** The model as loaded, data inline; protos are immutable. */
  ModelProto proto() {
    return proto;
  }

  /** Returns the name, vocabulary size, parameter count and optional inputs. */
  @Override
  public String toString() {
    return "PolicyModel '"
        + name
        + "': vocabulary "
        + vocabularySize
        + ", "
        + parameters.size()
        + " trainable tensors ("
        + parameterCount()
        + " parameters), attention_mask "
        + attentionMask
        + ", position_ids "
        + positionIds
        + ", context "
        + (contextLength.isPresent() ? contextLength.getAsInt() : "unknown");
  }
}
