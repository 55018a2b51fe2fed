package dev.jbond.serving.embedded;

import com.google.protobuf.TextFormat;
import dev.jbond.onnx.ModelLoadException;
import dev.jbond.serving.triton.proto.ModelConfig;
import dev.jbond.serving.triton.proto.ModelVersionPolicy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Reads a model repository in Triton's layout:
 *
 * <pre>
 * &lt;repository&gt;/&lt;model&gt;/config.pbtxt          (optional: protobuf text of ModelConfig)
 * &lt;repository&gt;/&lt;model&gt;/&lt;version&gt;/model.onnx    (plus external data files beside it)
 * </pre>
 *
 * <p>Version directories have numeric names; names that are not numeric or start with {@code 0} are
 * ignored, as in Triton. The config's {@code version_policy} selects the versions served: {@code
 * latest { num_versions: n }} (the default, with {@code n = 1}), {@code all {}} or {@code specific
 * { versions: [...] }}. Directories whose names start with {@code .} are not models.
 *
 * <p>The reader only reads files; it holds no state but the root path and may be shared.
 */
public final class ModelRepository {
  /** The name of a model's configuration file. */
  public static final String CONFIG_FILE = "config.pbtxt";

  private static final Pattern VERSION = Pattern.compile("[1-9][0-9]{0,17}");

  private final Path root;

  /**
   * Creates a reader over a repository directory.
   *
   * @param root the repository directory
   * @throws IllegalArgumentException when {@code root} is not a directory
   */
  public ModelRepository(Path root) {
    Objects.requireNonNull(root, "root");
    this.root = root.toAbsolutePath().normalize();
    if (!Files.isDirectory(this.root)) {
      throw new IllegalArgumentException(
          "Expected a model repository directory at " + this.root + ", found none");
    }
  }

  /**
   * Returns the repository directory.
   *
   * @return the absolute, normalised path
   */
  public Path root() {
    return root;
  }

  /**
   * Lists the models: the repository's sub-directories, by name.
   *
   * @return the model names, sorted
   * @throws IOException when the directory cannot be listed
   */
  public List<String> modelNames() throws IOException {
    List<String> names = new ArrayList<>();
    try (Stream<Path> children = Files.list(root)) {
      children
          .filter(Files::isDirectory)
          .map(child -> child.getFileName().toString())
          .filter(name -> !name.startsWith("."))
          .sorted()
          .forEach(names::add);
    }
    return names;
  }

  /**
   * Returns whether the repository has a directory for a model.
   *
   * @param model the model name
   * @return true when {@code <repository>/<model>} is a directory
   */
  public boolean contains(String model) {
    return isModelName(model) && Files.isDirectory(root.resolve(model));
  }

  /**
   * Reads a model of this repository.
   *
   * @param model the model name
   * @param config a configuration that replaces {@code config.pbtxt} (the {@code "config"}
   *     parameter of a load), or empty to read the file
   * @return the model's directory, configuration and selected versions
   * @throws ModelLoadException when the model directory is missing, the configuration cannot be
   *     parsed, or no version directory is selected
   */
  public ModelSource read(String model, Optional<ModelConfig> config) throws ModelLoadException {
    if (!contains(model)) {
      List<String> names;
      try {
        names = modelNames();
      } catch (IOException e) {
        names = List.of();
      }
      throw new ModelLoadException(
          "Expected model '" + model + "' in repository " + root + ", found " + names);
    }
    return readDirectory(model, root.resolve(model), config);
  }

  /**
   * Reads a model directory in Triton's layout, inside a repository or not (for example the
   * temporary directory of a load with file overrides).
   *
   * @param model the model name
   * @param directory the model directory
   * @param config a configuration that replaces {@code config.pbtxt}, or empty to read the file
   * @return the model's directory, configuration and selected versions
   * @throws ModelLoadException when the configuration cannot be parsed, names another model, or its
   *     version policy selects no version directory
   */
  public static ModelSource readDirectory(
      String model, Path directory, Optional<ModelConfig> config) throws ModelLoadException {
    Path dir = directory.toAbsolutePath().normalize();
    ModelConfig parsed;
    boolean written;
    if (config.isPresent()) {
      parsed = config.get();
      written = true;
    } else {
      Path file = dir.resolve(CONFIG_FILE);
      written = Files.isRegularFile(file);
      parsed = written ? parseConfig(model, file) : ModelConfig.getDefaultInstance();
    }
    if (!parsed.getName().isEmpty() && !parsed.getName().equals(model)) {
      throw new ModelLoadException(
          "Model '"
              + model
              + "': expected config name '"
              + model
              + "' (the directory name), found '"
              + parsed.getName()
              + "'");
    }
    return new ModelSource(
        model, dir, parsed, written, versions(model, dir, parsed.getVersionPolicy()));
  }

  /**
   * Parses a {@code config.pbtxt}.
   *
   * @param model the model name, for messages
   * @param file the file
   * @return the configuration
   * @throws ModelLoadException when the file cannot be read or is not a ModelConfig in protobuf
   *     text format (fields outside jbond's ModelConfig subset included)
   */
  static ModelConfig parseConfig(String model, Path file) throws ModelLoadException {
    try {
      String text = Files.readString(file, StandardCharsets.UTF_8);
      ModelConfig.Builder builder = ModelConfig.newBuilder();
      TextFormat.merge(text, builder);
      return builder.build();
    } catch (TextFormat.ParseException e) {
      throw new ModelLoadException(
          "Model '" + model + "': expected a ModelConfig in " + file + ", found " + e.getMessage(),
          e);
    } catch (IOException e) {
      throw new ModelLoadException("Model '" + model + "': cannot read " + file, e);
    }
  }

  /**
   * Returns the model file of an ONNX model version: {@code default_model_filename} or {@code
   * model.onnx} inside the version directory.
   *
   * @param model the model name, for messages
   * @param config the configuration
   * @param version the version directory
   * @return the file
   * @throws ModelLoadException when the file is missing; the message lists what the directory has
   */
  static Path onnxFile(String model, ModelConfig config, ModelVersionDirectory version)
      throws ModelLoadException {
    String name =
        config.getDefaultModelFilename().isEmpty()
            ? ModelConfigs.DEFAULT_ONNX_FILE
            : config.getDefaultModelFilename();
    Path file = version.directory().resolve(name);
    if (!Files.isRegularFile(file)) {
      throw new ModelLoadException(
          "Model '"
              + model
              + "' version "
              + version.version()
              + ": expected "
              + name
              + " in "
              + version.directory()
              + ", found "
              + list(version.directory()));
    }
    return file;
  }

  private static List<ModelVersionDirectory> versions(
      String model, Path dir, ModelVersionPolicy policy) throws ModelLoadException {
    TreeMap<Long, Path> found = new TreeMap<>();
    if (Files.isDirectory(dir)) {
      try (Stream<Path> children = Files.list(dir)) {
        for (Path child : (Iterable<Path>) children::iterator) {
          String name = child.getFileName().toString();
          if (Files.isDirectory(child) && VERSION.matcher(name).matches()) {
            found.put(Long.parseLong(name), child);
          }
        }
      } catch (IOException e) {
        throw new ModelLoadException("Model '" + model + "': cannot list " + dir, e);
      }
    }
    if (found.isEmpty()) {
      throw new ModelLoadException(
          "Model '"
              + model
              + "': expected at least one numeric version directory in "
              + dir
              + ", found "
              + list(dir));
    }
    List<ModelVersionDirectory> selected = new ArrayList<>();
    switch (policy.getPolicyChoiceCase()) {
      case ALL -> found.forEach((v, p) -> selected.add(new ModelVersionDirectory(v, p)));
      case SPECIFIC -> {
        TreeSet<Long> wanted = new TreeSet<>(policy.getSpecific().getVersionsList());
        TreeSet<Long> missing = new TreeSet<>(wanted);
        missing.removeAll(found.keySet());
        if (!missing.isEmpty() || wanted.isEmpty()) {
          throw new ModelLoadException(
              "Model '"
                  + model
                  + "': expected version directories "
                  + wanted
                  + " of the specific version policy in "
                  + dir
                  + ", found "
                  + found.keySet());
        }
        for (long v : wanted) {
          selected.add(new ModelVersionDirectory(v, found.get(v)));
        }
      }
      default -> {
        long n = Math.max(1, policy.getLatest().getNumVersions());
        for (Long v : found.descendingKeySet()) {
          if (selected.size() < n) {
            selected.add(0, new ModelVersionDirectory(v, found.get(v)));
          }
        }
      }
    }
    return selected;
  }

  private static List<String> list(Path dir) {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> children = Files.list(dir)) {
      return children.map(p -> p.getFileName().toString()).sorted().toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  private static boolean isModelName(String model) {
    return !model.isEmpty()
        && !model.startsWith(".")
        && !model.contains("/")
        && !model.contains("\\");
  }
}
