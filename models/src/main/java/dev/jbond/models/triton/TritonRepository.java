package dev.jbond.models.triton;

import dev.jbond.internal.Checks;
import dev.jbond.onnx.ModelLoadException;
import dev.jbond.onnx.proto.ModelProto;
import dev.jbond.onnx.proto.StringStringEntryProto;
import dev.jbond.onnx.proto.TensorProto;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Writes models into a Triton model repository:
 *
 * <pre>
 *   &lt;repo&gt;/&lt;model&gt;/config.pbtxt
 *   &lt;repo&gt;/&lt;model&gt;/&lt;version&gt;/model.onnx     (plus its external data files)
 * </pre>
 *
 * the layout read by Triton's ONNX Runtime backend and by jbond's embedded server. A policy model
 * directory ({@link dev.jbond.models.decoder.ModelDirectory}) goes into the version directory
 * whole, with a {@code config.pbtxt} whose backend is {@value TritonModelConfig#GENERATE_BACKEND}.
 */
public final class TritonRepository {
  /** The configuration file of a model. */
  public static final String CONFIG_FILE = "config.pbtxt";

  /** The model file inside a version directory. */
  public static final String MODEL_FILE = "model.onnx";

  private TritonRepository() {}

  /**
   * Copies an ONNX model file and the external data files it names into {@code
   * <repo>/<name>/<version>/}, the model file as {@value #MODEL_FILE}, and writes {@code
   * config.pbtxt}.
   *
   * @param repo the repository directory, created when missing
   * @param name the model name, equal to {@code config.name()}
   * @param version the version, {@code >= 1}
   * @param modelFile the {@code .onnx} file
   * @param config the configuration
   * @return the version directory
   * @throws IllegalArgumentException when the name differs from the configuration's or {@code
   *     version < 1}
   * @throws ModelLoadException when the file is not an ONNX model
   * @throws IOException when a file cannot be read or written
   */
  public static Path writeOnnxModel(
      Path repo, String name, long version, Path modelFile, TritonModelConfig config)
      throws IOException {
    Path versionDir = versionDirectory(repo, name, version, config);
    ModelProto model;
    try {
      model = ModelProto.parseFrom(Files.readAllBytes(modelFile));
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new ModelLoadException(
          "Expected an ONNX model in " + modelFile + ", found: " + e.getMessage(), e);
    }
    Set<String> dataFiles = new LinkedHashSet<>();
    for (TensorProto t : model.getGraph().getInitializerList()) {
      for (StringStringEntryProto e : t.getExternalDataList()) {
        if (e.getKey().equals("location")) {
          dataFiles.add(e.getValue());
        }
      }
    }
    Files.copy(modelFile, versionDir.resolve(MODEL_FILE), StandardCopyOption.REPLACE_EXISTING);
    Path from = modelFile.toAbsolutePath().getParent();
    for (String data : dataFiles) {
      Files.copy(from.resolve(data), versionDir.resolve(data), StandardCopyOption.REPLACE_EXISTING);
    }
    writeConfig(repo, config);
    return versionDir;
  }

  /**
   * Creates {@code <repo>/<name>/<version>/} and returns it, for models whose files are written
   * there directly (a policy model directory); write {@code config.pbtxt} with {@link
   * #writeConfig}.
   *
   * @param repo the repository directory, created when missing
   * @param name the model name, equal to {@code config.name()}
   * @param version the version, {@code >= 1}
   * @param config the configuration
   * @return the version directory
   * @throws IllegalArgumentException when the name differs from the configuration's or {@code
   *     version < 1}
   * @throws IOException when the directory cannot be created
   */
  public static Path versionDirectory(
      Path repo, String name, long version, TritonModelConfig config) throws IOException {
    Checks.checkArgument(
        name.equals(config.name()),
        "Expected config name '%s' (the directory name), found '%s'",
        name,
        config.name());
    Checks.checkArgument(version >= 1, "Expected a model version >= 1, found %d", version);
    Path dir = repo.resolve(name).resolve(Long.toString(version));
    Files.createDirectories(dir);
    return dir;
  }

  /**
   * Writes {@code <repo>/<config.name()>/config.pbtxt}.
   *
   * @param repo the repository directory
   * @param config the configuration
   * @return the file
   * @throws IOException when it cannot be written
   */
  public static Path writeConfig(Path repo, TritonModelConfig config) throws IOException {
    Path dir = repo.resolve(config.name());
    Files.createDirectories(dir);
    Path file = dir.resolve(CONFIG_FILE);
    Files.writeString(file, config.toPbtxt(), StandardCharsets.UTF_8);
    return file;
  }
}
