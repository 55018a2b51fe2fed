package dev.jbond.models.policy;

import dev.jbond.internal.Json;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.models.tokenizer.Tokenizer;
import dev.jbond.onnx.ModelLoadException;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.ModelFiles;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.proto.ModelProto;
import dev.jbond.onnx.proto.StringStringEntryProto;
import dev.jbond.onnx.proto.TensorShapeProto;
import dev.jbond.onnx.proto.ValueInfoProto;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A causal language model exported to ONNX from PyTorch or Hugging Face, in a directory laid out
 * like a Hugging Face export:
 *
 * <pre>
 *   &lt;root&gt;/
 *     model.onnx              full-sequence graph: input_ids [+ attention_mask, position_ids] -&gt; logits
 *     model_with_past.onnx    optional: the same model with past_key_values.{i}.key/.value in and
 *                             present.{i}.key/.value out (also read as decoder_with_past_model.onnx
 *                             or decode.onnx); it must accept an empty past
 *     config.json             optional Hugging Face configuration: vocab_size,
 *                             max_position_embeddings (or n_positions, n_ctx), eos_token_id (an
 *                             integer or a list), pad_token_id
 *     generation_config.json  optional: eos_token_id and pad_token_id when config.json lacks them
 *     tokenizer.json          optional Hugging Face tokenizer
 * </pre>
 *
 * <p>Without a past-key/values graph, samplers run the full-sequence graph over the whole sequence
 * for every new token. The vocabulary is read from {@code config.json} or, failing that, from the
 * full graph's {@code logits} shape; the context length from {@code config.json} or the graph's
 * metadata ({@code context_length}, {@code n_positions}, {@code max_position_embeddings}).
 *
 * <p>A served copy ({@link #writeServed}) holds {@code config.json} and the sampling graph only.
 * Immutable; the sampling graph and the weight mapping are read once, on first use.
 */
public final class ExportDirectory implements PolicyFiles {
  /** The full-sequence graph. */
  public static final String FULL_GRAPH_FILE = "model.onnx";

  /** The names a past-key/values graph is found under, in order. */
  public static final List<String> PAST_GRAPH_FILES =
      List.of("model_with_past.onnx", "decoder_with_past_model.onnx", "decode.onnx");

  /** The Hugging Face configuration file. */
  public static final String CONFIG_FILE = "config.json";

  private static final String GENERATION_CONFIG_FILE = "generation_config.json";

  private final Path root;
  private final Optional<Path> full;
  private final Path sampling;
  private final boolean cached;
  private final int vocabSize;
  private final int contextLength;
  private final OptionalInt eos;
  private final OptionalInt pad;
  private final Object lock = new Object();
  private ModelProto samplingModel;
  private Set<String> mappedFor;
  private WeightMapping mapping;

  private ExportDirectory(
      Path root,
      Optional<Path> full,
      Path sampling,
      boolean cached,
      int vocabSize,
      int contextLength,
      OptionalInt eos,
      OptionalInt pad) {
    this.root = root;
    this.full = full;
    this.sampling = sampling;
    this.cached = cached;
    this.vocabSize = vocabSize;
    this.contextLength = contextLength;
    this.eos = eos;
    this.pad = pad;
  }

  /**
   * Opens an export directory.
   *
   * @param root the directory
   * @return the files
   * @throws ModelLoadException when it holds neither graph, a graph lacks {@code logits}, or the
   *     vocabulary or context length cannot be found
   * @throws IOException when a file cannot be read
   */
  public static ExportDirectory open(Path root) throws IOException {
    Path fullFile = root.resolve(FULL_GRAPH_FILE);
    Optional<Path> full = Files.isRegularFile(fullFile) ? Optional.of(fullFile) : Optional.empty();
    Optional<Path> past = Optional.empty();
    for (String name : PAST_GRAPH_FILES) {
      if (Files.isRegularFile(root.resolve(name))) {
        past = Optional.of(root.resolve(name));
        break;
      }
    }
    if (full.isEmpty() && past.isEmpty()) {
      throw new ModelLoadException(
          "Expected "
              + FULL_GRAPH_FILE
              + " (or a past-key/values graph "
              + PAST_GRAPH_FILES
              + ") in "
              + root
              + ", found neither");
    }
    Path sampling = past.orElseGet(full::orElseThrow);
    Map<String, Object> config = readJson(root.resolve(CONFIG_FILE));
    Map<String, Object> generation = readJson(root.resolve(GENERATION_CONFIG_FILE));
    ModelProto header = ModelFiles.parse(sampling);
    checkLogits(header, sampling);
    if (past.isPresent()) {
      checkPastGraph(header, sampling);
    }
    int vocab =
        firstInt(config, root.resolve(CONFIG_FILE), "vocab_size")
            .orElseGet(() -> logitsWidth(header, sampling));
    int context =
        firstInt(
                config,
                root.resolve(CONFIG_FILE),
                "max_position_embeddings",
                "n_positions",
                "n_ctx")
            .orElseGet(() -> metadataContext(header, sampling));
    OptionalInt eos = tokenId(config, generation, root, "eos_token_id");
    OptionalInt pad = tokenId(config, generation, root, "pad_token_id");
    for (OptionalInt id : List.of(eos, pad)) {
      if (id.isPresent() && (id.getAsInt() < 0 || id.getAsInt() >= vocab)) {
        throw new ModelLoadException(
            "Expected special token ids in [0, "
                + vocab
                + ") in "
                + root.resolve(CONFIG_FILE)
                + ", found "
                + id.getAsInt());
      }
    }
    return new ExportDirectory(root, full, sampling, past.isPresent(), vocab, context, eos, pad);
  }

  private static Map<String, Object> readJson(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      return Map.of();
    }
    try {
      return Json.parseObject(Files.readString(file, StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      throw new ModelLoadException(
          "Expected a JSON object in '" + file + "', found: " + e.getMessage(), e);
    }
  }

  private static OptionalInt firstInt(Map<String, Object> json, Path file, String... keys)
      throws ModelLoadException {
    for (String key : keys) {
      Object v = json.get(key);
      if (v == null) {
        continue;
      }
      if (v instanceof Long l && l >= 1 && l <= Integer.MAX_VALUE) {
        return OptionalInt.of((int) (long) l);
      }
      throw new ModelLoadException(
          "Expected a positive integer for '"
              + key
              + "' in '"
              + file
              + "', found "
              + Json.write(v));
    }
    return OptionalInt.empty();
  }

  /** An integer, or the first of a list (Hugging Face allows several EOS ids), or empty. */
  private static OptionalInt tokenId(
      Map<String, Object> config, Map<String, Object> generation, Path root, String key)
      throws ModelLoadException {
    Object v = config.containsKey(key) ? config.get(key) : generation.get(key);
    if (v == null) {
      return OptionalInt.empty();
    }
    if (v instanceof List<?> list && !list.isEmpty()) {
      v = list.get(0);
    }
    if (v instanceof Long l && l >= 0 && l <= Integer.MAX_VALUE) {
      return OptionalInt.of((int) (long) l);
    }
    throw new ModelLoadException(
        "Expected a token id (an integer or a list of them) for '"
            + key
            + "' in "
            + root.resolve(CONFIG_FILE)
            + ", found "
            + Json.write(v));
  }

  private static void checkLogits(ModelProto model, Path file) throws ModelLoadException {
    List<String> outputs = new ArrayList<>();
    for (ValueInfoProto out : model.getGraph().getOutputList()) {
      outputs.add(out.getName());
    }
    if (!outputs.contains("logits")) {
      throw new ModelLoadException(
          "Expected an output named 'logits' in " + file + ", found outputs " + outputs);
    }
  }

  /** Past inputs and present outputs must pair up layer by layer. */
  private static void checkPastGraph(ModelProto model, Path file) throws ModelLoadException {
    Set<String> inputs = new HashSet<>();
    for (ValueInfoProto in : model.getGraph().getInputList()) {
      inputs.add(in.getName());
    }
    Set<String> outputs = new HashSet<>();
    for (ValueInfoProto out : model.getGraph().getOutputList()) {
      outputs.add(out.getName());
    }
    if (!inputs.contains("past_key_values.0.key")) {
      throw new ModelLoadException(
          "Expected inputs past_key_values.{i}.key/.value in the past-key/values graph "
              + file
              + ", found inputs "
              + inputs);
    }
    for (int i = 0; inputs.contains("past_key_values." + i + ".key"); i++) {
      for (String kind : List.of("key", "value")) {
        String in = "past_key_values." + i + "." + kind;
        String out = "present." + i + "." + kind;
        if (!inputs.contains(in) || !outputs.contains(out)) {
          throw new ModelLoadException(
              "Expected input "
                  + in
                  + " and output "
                  + out
                  + " in "
                  + file
                  + ", found "
                  + (inputs.contains(in) ? "no output " + out : "no input " + in));
        }
      }
    }
  }

  private static int logitsWidth(ModelProto model, Path file) {
    for (ValueInfoProto out : model.getGraph().getOutputList()) {
      if (out.getName().equals("logits")) {
        List<TensorShapeProto.Dimension> dims =
            out.getType().getTensorType().getShape().getDimList();
        if (!dims.isEmpty() && dims.get(dims.size() - 1).hasDimValue()) {
          return (int) dims.get(dims.size() - 1).getDimValue();
        }
      }
    }
    throw new IllegalArgumentException(
        "Expected vocab_size in config.json or a fixed last axis of 'logits' in "
            + file
            + ", found neither");
  }

  private static int metadataContext(ModelProto model, Path file) {
    for (String key : List.of("context_length", "n_positions", "max_position_embeddings")) {
      for (StringStringEntryProto e : model.getMetadataPropsList()) {
        if (e.getKey().equals(key)) {
          try {
            return Integer.parseInt(e.getValue().strip());
          } catch (NumberFormatException ignored) {
            // try the next key
          }
        }
      }
    }
    throw new IllegalArgumentException(
        "Expected max_position_embeddings (or n_positions) in config.json beside "
            + file
            + ", or context_length in the model's metadata, found neither");
  }

  @Override
  public Path root() {
    return root;
  }

  @Override
  public Path fullGraph() throws ModelLoadException {
    if (full.isEmpty()) {
      throw new ModelLoadException(
          "Expected the full-sequence graph " + root.resolve(FULL_GRAPH_FILE) + ", found none");
    }
    return full.get();
  }

  @Override
  public boolean cachedSampling() {
    return cached;
  }

  @Override
  public Path samplingGraph() {
    return sampling;
  }

  @Override
  public int vocabSize() {
    return vocabSize;
  }

  @Override
  public int contextLength() {
    return contextLength;
  }

  @Override
  public OptionalInt eosTokenId() {
    return eos;
  }

  @Override
  public OptionalInt padTokenId() {
    return pad;
  }

  /** Returns the tokenizer of {@code tokenizer.json}, when present. */
  @Override
  public Optional<Tokenizer> tokenizer() throws IOException {
    Path file = root.resolve(ModelDirectory.TOKENIZER_FILE);
    if (!Files.exists(file)) {
      return Optional.empty();
    }
    return Optional.of(ModelDirectory.loadTokenizer(file, vocabSize));
  }

  /** Returns the SHA-256 of {@code config.json} (when present) and the full-sequence graph. */
  @Override
  public String identity() throws IOException {
    List<Path> files = new ArrayList<>();
    if (Files.isRegularFile(root.resolve(CONFIG_FILE))) {
      files.add(root.resolve(CONFIG_FILE));
    }
    files.add(full.orElse(sampling));
    return FileDigest.sha256(files);
  }

  /**
   * Returns the mapping from the full-sequence graph's trained parameters to the sampling graph's
   * weights, derived on first use ({@link WeightMapping#derive}); the identity mapping when the
   * sampler runs the full-sequence graph itself.
   *
   * @param trained the learner's trained parameter names
   * @return the mapping
   * @throws IllegalArgumentException when the graphs' weights cannot be matched
   * @throws IOException when a graph cannot be read
   */
  public WeightMapping mapping(Set<String> trained) throws IOException {
    synchronized (lock) {
      if (mapping == null || !mappedFor.equals(trained)) {
        Map<String, Tensor> target = Graph.fromModel(samplingModel()).initializers();
        Map<String, Tensor> source =
            cached ? Graph.fromModel(ModelFiles.read(fullGraph())).initializers() : target;
        mapping =
            WeightMapping.derive(
                source,
                trained,
                target,
                full.map(p -> p.getFileName().toString()).orElse(FULL_GRAPH_FILE),
                sampling.getFileName().toString());
        mappedFor = Set.copyOf(trained);
      }
      return mapping;
    }
  }

  private ModelProto samplingModel() throws IOException {
    synchronized (lock) {
      if (samplingModel == null) {
        samplingModel = ModelFiles.read(sampling);
      }
      return samplingModel;
    }
  }

  @Override
  public Graph samplingGraph(Map<String, Tensor> weights) throws IOException {
    Graph graph = Graph.fromModel(samplingModel());
    if (!weights.isEmpty()) {
      mapping(weights.keySet()).apply(graph, weights);
    }
    return graph;
  }

  /**
   * Writes {@code config.json} (when present) and the sampling graph, under its own file name, with
   * the weights; large initializers go to the side file {@code <graph>.data}.
   */
  @Override
  public void writeServed(Path target, Map<String, Tensor> weights) throws IOException {
    Files.createDirectories(target);
    Path config = root.resolve(CONFIG_FILE);
    if (Files.isRegularFile(config)) {
      Files.copy(config, target.resolve(CONFIG_FILE), StandardCopyOption.REPLACE_EXISTING);
    }
    samplingGraph(weights).save(target.resolve(sampling.getFileName().toString()), 1024);
  }

  @Override
  public String toString() {
    return "ExportDirectory "
        + root
        + " (vocab "
        + vocabSize
        + ", context "
        + contextLength
        + (cached ? ", sampling " + sampling.getFileName() : ", no past-key/values graph")
        + ")";
  }
}
