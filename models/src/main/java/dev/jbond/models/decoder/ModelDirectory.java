package dev.jbond.models.decoder;

import dev.jbond.internal.Checks;
import dev.jbond.internal.Json;
import dev.jbond.models.policy.FileDigest;
import dev.jbond.models.policy.PolicyFiles;
import dev.jbond.models.tokenizer.ByteTokenizer;
import dev.jbond.models.tokenizer.HuggingFaceTokenizer;
import dev.jbond.models.tokenizer.Tokenizer;
import dev.jbond.models.tokenizer.TokenizerFormatException;
import dev.jbond.onnx.ModelLoadException;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.ModelFiles;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.proto.GraphProto;
import dev.jbond.onnx.proto.ModelProto;
import dev.jbond.onnx.proto.StringStringEntryProto;
import dev.jbond.onnx.proto.TensorProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A decoder's model directory: both graphs of {@link DecoderBuilder}, their one shared weights
 * file, and a small metadata file.
 *
 * <h2>Layout</h2>
 *
 * <pre>
 *   &lt;root&gt;/
 *     config.json    metadata (below); written last, so its presence marks a complete directory
 *     model.onnx     the full-sequence graph ({@link DecoderBuilder#fullGraph})
 *     decode.onnx    the decode graph with the key/value cache ({@link DecoderBuilder#decodeGraph})
 *     weights.bin    every parameter, once, read by both graphs as ONNX external data
 *     tokenizer.json optional: a Hugging Face tokenizer file ({@link #tokenizer()})
 * </pre>
 *
 * {@code weights.bin} holds the parameters' raw little-endian float32 bytes in canonical order
 * ({@link DecoderConfig#parameterShapes()}), each at an offset that is a multiple of {@value
 * ModelFiles#ALIGNMENT} bytes, zero-filled between. Both graphs refer to it from every parameter
 * initializer ({@code data_location = EXTERNAL}, {@code location = "weights.bin"}, {@code offset},
 * {@code length}), so ONNX Runtime and {@link Graph#load} open either {@code .onnx} file by path;
 * graph constants stay inline.
 *
 * <p>{@code config.json} is one JSON object:
 *
 * <pre>
 *   format              "jbond-decoder"
 *   format_version      1
 *   vocab_size, context_length, layers, width, heads, mlp_multiplier    integers
 *   tied_embeddings     boolean
 *   gelu                "tanh" or "exact"
 *   layer_norm_epsilon, init_std                                         numbers
 *   opset, seed                                                          integers
 *   eos_token_id, pad_token_id      integers in [0, vocab_size), present only when known
 * </pre>
 *
 * Readers ignore keys they do not know, so later additions (a tokenizer file, provenance) keep
 * older directories readable; a larger {@code format_version} means an incompatible change.
 *
 * @param root the directory
 * @param config the decoder's configuration
 * @param eosTokenId the end-of-sequence token id, when known
 * @param padTokenId the padding token id, when known
 */
public record ModelDirectory(
    Path root, DecoderConfig config, OptionalInt eosTokenId, OptionalInt padTokenId)
    implements PolicyFiles {
  /** The metadata file. */
  public static final String CONFIG_FILE = "config.json";

  /** The full-sequence graph. */
  public static final String FULL_GRAPH_FILE = "model.onnx";

  /** The decode graph. */
  public static final String DECODE_GRAPH_FILE = "decode.onnx";

  /** The shared weights file. */
  public static final String WEIGHTS_FILE = "weights.bin";

  /** The optional Hugging Face tokenizer file. */
  public static final String TOKENIZER_FILE = "tokenizer.json";

  /** The value of {@code format} in {@code config.json}. */
  public static final String FORMAT = "jbond-decoder";

  /** The {@code format_version} this class writes and the highest it reads. */
  public static final int FORMAT_VERSION = 1;

  /**
   * Validates the components.
   *
   * @param root see the record description
   * @param config see the record description
   * @param eosTokenId see the record description
   * @param padTokenId see the record description
   * @throws IllegalArgumentException when a token id is outside the vocabulary
   */
  public ModelDirectory {
    Objects.requireNonNull(root, "root");
    Objects.requireNonNull(config, "config");
    checkToken(eosTokenId, "eosTokenId", config);
    checkToken(padTokenId, "padTokenId", config);
  }

  private static void checkToken(OptionalInt id, String name, DecoderConfig config) {
    Objects.requireNonNull(id, name);
    if (id.isPresent()) {
      Checks.checkArgument(
          id.getAsInt() >= 0 && id.getAsInt() < config.vocabSize(),
          "Expected %s in [0, %d), found %d",
          name,
          config.vocabSize(),
          id.getAsInt());
    }
  }

  /**
   * Writes a model directory: both graphs over {@code weights}, the weights file and {@code
   * config.json}, replacing files of those names. The directory is created when missing.
   *
   * @param root the directory
   * @param weights the parameters
   * @param eosTokenId the end-of-sequence token id, when known
   * @param padTokenId the padding token id, when known
   * @return the directory
   * @throws IllegalArgumentException when a token id is outside the vocabulary
   * @throws IOException when a file cannot be written
   */
  public static ModelDirectory write(
      Path root, DecoderWeights weights, OptionalInt eosTokenId, OptionalInt padTokenId)
      throws IOException {
    ModelDirectory dir = new ModelDirectory(root, weights.config(), eosTokenId, padTokenId);
    Files.createDirectories(root);
    Map<String, long[]> spans = writeWeights(dir.weightsFile(), weights);
    ModelFiles.write(
        externalize(DecoderBuilder.fullGraph(weights).toModel(), spans), dir.fullGraph());
    ModelFiles.write(
        externalize(DecoderBuilder.decodeGraph(weights).toModel(), spans), dir.decodeGraph());
    writeAtomically(
        dir.configFile(), (Json.write(dir.toJson()) + "\n").getBytes(StandardCharsets.UTF_8));
    return dir;
  }

  /**
   * Reads a model directory's {@code config.json}.
   *
   * @param root the directory
   * @return the directory
   * @throws java.nio.file.NoSuchFileException when {@code config.json} does not exist
   * @throws ModelLoadException when {@code config.json} is not valid JSON, has another format or a
   *     newer format version, lacks a key, holds a value of the wrong type, or describes an invalid
   *     configuration
   * @throws IOException when the file cannot be read
   */
  public static ModelDirectory read(Path root) throws IOException {
    Path file = root.resolve(CONFIG_FILE);
    String text = Files.readString(file, StandardCharsets.UTF_8);
    Map<String, Object> json;
    try {
      json = Json.parseObject(text);
    } catch (IllegalArgumentException e) {
      throw new ModelLoadException(
          "Expected a JSON object in '" + file + "', found: " + e.getMessage(), e);
    }
    ConfigReader reader = new ConfigReader(file, json);
    String format = reader.string("format");
    if (!FORMAT.equals(format)) {
      throw new ModelLoadException(
          "Expected format '" + FORMAT + "' in '" + file + "', found '" + format + "'");
    }
    long version = reader.integer("format_version");
    if (version < 1 || version > FORMAT_VERSION) {
      throw new ModelLoadException(
          "Expected format_version 1 to "
              + FORMAT_VERSION
              + " in '"
              + file
              + "', found "
              + version);
    }
    try {
      DecoderConfig config =
          DecoderConfig.builder()
              .setVocabSize(reader.intValue("vocab_size"))
              .setContextLength(reader.intValue("context_length"))
              .setLayers(reader.intValue("layers"))
              .setWidth(reader.intValue("width"))
              .setHeads(reader.intValue("heads"))
              .setSeed(reader.integer("seed"))
              .optMlpMultiplier(reader.intValue("mlp_multiplier"))
              .optTiedEmbeddings(reader.bool("tied_embeddings"))
              .optGelu(reader.gelu("gelu"))
              .optLayerNormEpsilon(reader.number("layer_norm_epsilon"))
              .optOpset(reader.intValue("opset"))
              .optInitStd(reader.number("init_std"))
              .build();
      return new ModelDirectory(
          root, config, reader.optionalInt("eos_token_id"), reader.optionalInt("pad_token_id"));
    } catch (IllegalArgumentException e) {
      throw new ModelLoadException(
          "Expected a valid decoder configuration in '" + file + "', found: " + e.getMessage(), e);
    }
  }

  /**
   * Returns the path of {@code config.json}.
   *
   * @return the metadata file
   */
  public Path configFile() {
    return root.resolve(CONFIG_FILE);
  }

  /**
   * Returns the path of the full-sequence graph.
   *
   * @return {@code model.onnx}
   */
  @Override
  public Path fullGraph() {
    return root.resolve(FULL_GRAPH_FILE);
  }

  /**
   * Returns the path of the decode graph.
   *
   * @return {@code decode.onnx}
   */
  public Path decodeGraph() {
    return root.resolve(DECODE_GRAPH_FILE);
  }

  /**
   * Returns the path of the shared weights file.
   *
   * @return {@code weights.bin}
   */
  public Path weightsFile() {
    return root.resolve(WEIGHTS_FILE);
  }

  /**
   * Tells whether {@code root} holds a jbond decoder directory: a {@value #CONFIG_FILE} whose
   * {@code format} is {@value #FORMAT}.
   *
   * @param root a directory
   * @return true for a decoder directory; false when {@code config.json} is missing, not JSON or of
   *     another format
   * @throws IOException when {@code config.json} exists but cannot be read
   */
  public static boolean isDecoderDirectory(Path root) throws IOException {
    Path file = root.resolve(CONFIG_FILE);
    if (!Files.isRegularFile(file)) {
      return false;
    }
    try {
      return FORMAT.equals(
          Json.parseObject(Files.readString(file, StandardCharsets.UTF_8)).get("format"));
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  @Override
  public boolean cachedSampling() {
    return true;
  }

  /** Returns the decode graph ({@link #decodeGraph()}). */
  @Override
  public Path samplingGraph() {
    return decodeGraph();
  }

  @Override
  public int vocabSize() {
    return config.vocabSize();
  }

  @Override
  public int contextLength() {
    return config.contextLength();
  }

  /** Returns the SHA-256 of {@code config.json} and {@code weights.bin}. */
  @Override
  public String identity() throws IOException {
    return FileDigest.sha256(List.of(configFile(), weightsFile()));
  }

  /** Returns the decode graph of {@link DecoderWeights#fromInitializers} of the weights. */
  @Override
  public Graph samplingGraph(Map<String, Tensor> weights) throws IOException {
    return DecoderBuilder.decodeGraph(
        weights.isEmpty() ? readWeights() : DecoderWeights.fromInitializers(config, weights));
  }

  /** Writes a decoder directory ({@link #write}) with the weights and this one's special tokens. */
  @Override
  public void writeServed(Path target, Map<String, Tensor> weights) throws IOException {
    write(
        target,
        weights.isEmpty() ? readWeights() : DecoderWeights.fromInitializers(config, weights),
        eosTokenId,
        padTokenId);
  }

  /**
   * Returns the tokenizer of this model: the Hugging Face tokenizer in {@value #TOKENIZER_FILE}
   * when the directory has one, else the {@link ByteTokenizer} when the vocabulary has its size
   * ({@value ByteTokenizer#VOCABULARY_SIZE}), else none (token ids only).
   *
   * @return the tokenizer, when one is known
   * @throws dev.jbond.models.tokenizer.TokenizerFormatException when {@code tokenizer.json} does
   *     not parse, or has more tokens than the model's vocabulary
   * @throws IOException when {@code tokenizer.json} cannot be read
   */
  @Override
  public Optional<Tokenizer> tokenizer() throws IOException {
    Path file = root.resolve(TOKENIZER_FILE);
    if (Files.exists(file)) {
      return Optional.of(loadTokenizer(file, config.vocabSize()));
    }
    if (config.vocabSize() == ByteTokenizer.VOCABULARY_SIZE) {
      return Optional.of(new ByteTokenizer());
    }
    return Optional.empty();
  }

  /**
   * Loads a Hugging Face tokenizer file for a model with {@code vocabSize} token ids.
   *
   * @param file the {@code tokenizer.json}
   * @param vocabSize the model's vocabulary
   * @return the tokenizer
   * @throws TokenizerFormatException when the file does not parse, or has more tokens than the
   *     model's vocabulary
   * @throws IOException when the file cannot be read
   */
  public static Tokenizer loadTokenizer(Path file, int vocabSize) throws IOException {
    HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.load(file);
    if (tokenizer.vocabularySize() > vocabSize) {
      throw new TokenizerFormatException(
          "Expected a tokenizer of at most "
              + vocabSize
              + " tokens (the model's vocabulary) in "
              + file
              + ", found "
              + tokenizer.vocabularySize()
              + ": it would give ids the model has no embedding for");
    }
    return tokenizer;
  }

  /**
   * Reads the weights through the full-sequence graph's external-data references.
   *
   * @return the weights, checked against {@link #config()}
   * @throws ModelLoadException when a file is not a model, external data is missing or short, or a
   *     parameter is missing or has another shape than the configuration's
   * @throws IOException when a file cannot be read
   */
  public DecoderWeights readWeights() throws IOException {
    Graph graph = Graph.load(fullGraph());
    try {
      return DecoderWeights.fromInitializers(config, graph.initializers());
    } catch (IllegalArgumentException e) {
      throw new ModelLoadException(
          "Expected the weights of '"
              + fullGraph()
              + "' to match its config.json, found: "
              + e.getMessage(),
          e);
    }
  }

  private Map<String, Object> toJson() {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("format", FORMAT);
    json.put("format_version", FORMAT_VERSION);
    json.put("vocab_size", config.vocabSize());
    json.put("context_length", config.contextLength());
    json.put("layers", config.layers());
    json.put("width", config.width());
    json.put("heads", config.heads());
    json.put("mlp_multiplier", config.mlpMultiplier());
    json.put("tied_embeddings", config.tiedEmbeddings());
    json.put("gelu", config.gelu().name().toLowerCase(Locale.ROOT));
    json.put("layer_norm_epsilon", config.layerNormEpsilon());
    json.put("opset", config.opset());
    json.put("init_std", config.initStd());
    json.put("seed", config.seed());
    eosTokenId.ifPresent(id -> json.put("eos_token_id", id));
    padTokenId.ifPresent(id -> json.put("pad_token_id", id));
    return json;
  }

  /** Writes the weights file; returns each parameter's {offset, length} in it. */
  private static Map<String, long[]> writeWeights(Path file, DecoderWeights weights)
      throws IOException {
    Map<String, long[]> spans = new HashMap<>();
    Path tmp = temporary(file);
    try {
      try (FileChannel out =
          FileChannel.open(
              tmp,
              StandardOpenOption.WRITE,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING)) {
        long offset = 0;
        for (Map.Entry<String, Tensor> entry : weights.tensors().entrySet()) {
          offset =
              (offset + ModelFiles.ALIGNMENT - 1) / ModelFiles.ALIGNMENT * ModelFiles.ALIGNMENT;
          ByteBuffer bytes = entry.getValue().asReadOnlyBuffer();
          long length = bytes.remaining();
          long at = offset;
          while (bytes.hasRemaining()) {
            at += out.write(bytes, at);
          }
          spans.put(entry.getKey(), new long[] {offset, length});
          offset += length;
        }
      }
      moveIntoPlace(tmp, file);
    } finally {
      Files.deleteIfExists(tmp);
    }
    return spans;
  }

  /** Points every parameter initializer of {@code model} at its span of the weights file. */
  private static ModelProto externalize(ModelProto model, Map<String, long[]> spans) {
    GraphProto.Builder graph = model.getGraph().toBuilder();
    int moved = 0;
    for (int i = 0; i < graph.getInitializerCount(); i++) {
      TensorProto tensor = graph.getInitializer(i);
      long[] span = spans.get(tensor.getName());
      if (span == null) {
        continue;
      }
      graph.setInitializer(
          i,
          tensor.toBuilder()
              .clearRawData()
              .clearFloatData()
              .clearExternalData()
              .addExternalData(entry("location", WEIGHTS_FILE))
              .addExternalData(entry("offset", Long.toString(span[0])))
              .addExternalData(entry("length", Long.toString(span[1])))
              .setDataLocation(TensorProto.DataLocation.EXTERNAL));
      moved++;
    }
    Checks.verify(
        moved == spans.size(),
        "Expected %d parameter initializers in graph '%s', found %d",
        spans.size(),
        graph.getName(),
        moved);
    return model.toBuilder().setGraph(graph).build();
  }

  private static StringStringEntryProto entry(String key, String value) {
    return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
  }

  private static void writeAtomically(Path file, byte[] bytes) throws IOException {
    Path tmp = temporary(file);
    try {
      Files.write(tmp, bytes);
      moveIntoPlace(tmp, file);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static void moveIntoPlace(Path source, Path target) throws IOException {
    try {
      Files.move(
          source, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(source, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static Path temporary(Path target) {
    return target.resolveSibling("." + target.getFileName() + ".tmp");
  }

  /** Typed access to the members of {@code config.json}, with messages naming file and key. */
  private static final class ConfigReader {
    private final Path file;
    private final Map<String, Object> json;

    ConfigReader(Path file, Map<String, Object> json) {
      this.file = file;
      this.json = json;
    }

    private Object get(String key) throws ModelLoadException {
      Object value = json.get(key);
      if (value == null) {
        throw new ModelLoadException(
            "Expected key '" + key + "' in '" + file + "', found keys " + json.keySet());
      }
      return value;
    }

    private ModelLoadException wrongType(String key, String expected, Object found) {
      return new ModelLoadException(
          "Expected "
              + expected
              + " for '"
              + key
              + "' in '"
              + file
              + "', found "
              + Json.write(found));
    }

    String string(String key) throws ModelLoadException {
      Object value = get(key);
      if (value instanceof String s) {
        return s;
      }
      throw wrongType(key, "a string", value);
    }

    long integer(String key) throws ModelLoadException {
      Object value = get(key);
      if (value instanceof Long l) {
        return l;
      }
      throw wrongType(key, "an integer", value);
    }

    int intValue(String key) throws ModelLoadException {
      long value = integer(key);
      if (value < Integer.MIN_VALUE || value > Integer.MAX_VALUE) {
        throw wrongType(key, "a 32-bit integer", value);
      }
      return (int) value;
    }

    OptionalInt optionalInt(String key) throws ModelLoadException {
      return json.get(key) == null ? OptionalInt.empty() : OptionalInt.of(intValue(key));
    }

    double number(String key) throws ModelLoadException {
      Object value = get(key);
      if (value instanceof Number n) {
        return n.doubleValue();
      }
      throw wrongType(key, "a number", value);
    }

    boolean bool(String key) throws ModelLoadException {
      Object value = get(key);
      if (value instanceof Boolean b) {
        return b;
      }
      throw wrongType(key, "a boolean", value);
    }

    Gelu gelu(String key) throws ModelLoadException {
      String value = string(key);
      for (Gelu gelu : Gelu.values()) {
        if (gelu.name().toLowerCase(Locale.ROOT).equals(value)) {
          return gelu;
        }
      }
      throw wrongType(key, "\"tanh\" or \"exact\"", value);
    }
  }
}
