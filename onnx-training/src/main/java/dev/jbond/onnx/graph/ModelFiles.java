package dev.jbond.onnx.graph;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.jbond.internal.Checks;
import dev.jbond.onnx.ModelLoadException;
import dev.jbond.onnx.proto.AttributeProto;
import dev.jbond.onnx.proto.GraphProto;
import dev.jbond.onnx.proto.ModelProto;
import dev.jbond.onnx.proto.NodeProto;
import dev.jbond.onnx.proto.StringStringEntryProto;
import dev.jbond.onnx.proto.TensorProto;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * Reads and writes ONNX model files, with ONNX's external-data convention: a tensor whose {@code
 * data_location} is {@code EXTERNAL} keeps its bytes in a side file named by the {@code location}
 * entry of {@code external_data} (relative to the model's directory), at {@code offset} (default 0)
 * for {@code length} bytes (default: to the end of the file).
 *
 * <p>{@link #writeWithExternalData} puts every initializer of at least a threshold size into one
 * side file, {@code <model file name>.data}, each at an offset that is a multiple of {@value
 * #ALIGNMENT} bytes, as ONNX's own writer does. Files are written to a temporary name and moved
 * into place, so a failed write leaves no half-written model.
 *
 * <p>Models above protobuf's 2 GiB message limit cannot be written inline; use external data.
 */
public final class ModelFiles {
  /** The alignment of tensors in the external-data file, in bytes. */
  public static final int ALIGNMENT = 64;

  /** The suffix appended to the model file name to name its external-data file. */
  public static final String DATA_SUFFIX = ".data";

  private ModelFiles() {}

  /**
   * Reads a model file and resolves all external data (of initializers and of tensors in node
   * attributes, subgraphs included) into inline {@code raw_data}.
   *
   * @param model the {@code .onnx} file
   * @return the model, all data inline
   * @throws NoSuchFileException when the model file does not exist
   * @throws ModelLoadException when the file is not a model, or external data is missing, short or
   *     points outside the model's directory
   * @throws IOException when a file cannot be read
   */
  public static ModelProto read(Path model) throws IOException {
    ModelProto proto = parse(model);
    Path dir = model.toAbsolutePath().getParent();
    try (ExternalReader reader = new ExternalReader(dir)) {
      GraphProto graph = reader.resolve(proto.getGraph());
      return graph == proto.getGraph() ? proto : proto.toBuilder().setGraph(graph).build();
    }
  }

  /**
   * Parses a model file without touching external data.
   *
   * @param model the {@code .onnx} file
   * @return the model as stored
   * @throws NoSuchFileException when the model file does not exist
   * @throws ModelLoadException when the file is not a model
   * @throws IOException when the file cannot be read
   */
  public static ModelProto parse(Path model) throws IOException {
    try (InputStream in = Files.newInputStream(model)) {
      CodedInputStream coded = CodedInputStream.newInstance(in);
      coded.setSizeLimit(Integer.MAX_VALUE);
      return ModelProto.parseFrom(coded);
    } catch (InvalidProtocolBufferException e) {
      throw new ModelLoadException(
          "Expected an ONNX model in '" + model.toAbsolutePath() + "', found " + e.getMessage(), e);
    }
  }

  /**
   * Writes a model to one file as it is (external-data references, if any, are kept).
   *
   * @param model the model
   * @param target the {@code .onnx} file
   * @throws IOException when the file cannot be written
   */
  public static void write(ModelProto model, Path target) throws IOException {
    Path tmp = temporary(target);
    try {
      try (OutputStream out = Files.newOutputStream(tmp)) {
        model.writeTo(out);
      }
      moveIntoPlace(tmp, target);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * Writes a model with every top-level initializer of at least {@code thresholdBytes} bytes moved
   * to the side file {@code <target file name>.data} in the same directory. Smaller initializers
   * and tensors in node attributes stay inline. An existing side file of that name is replaced;
   * none is written when no initializer reaches the threshold.
   *
   * @param model the model, all initializer data inline
   * @param target the {@code .onnx} file
   * @param thresholdBytes the smallest initializer, in bytes, that goes to the side file
   * @throws IllegalArgumentException when the threshold is negative or an initializer is already
   *     external
   * @throws IOException when a file cannot be written
   */
  public static void writeWithExternalData(ModelProto model, Path target, long thresholdBytes)
      throws IOException {
    Checks.checkArgument(
        thresholdBytes >= 0, "Expected a threshold >= 0 bytes, found %d", thresholdBytes);
    String dataName = target.getFileName() + DATA_SUFFIX;
    Path dataFile = target.resolveSibling(dataName);
    GraphProto.Builder graph = model.getGraph().toBuilder();
    Path tmpData = temporary(dataFile);
    boolean anyExternal = false;
    try {
      try (FileChannel out =
          FileChannel.open(
              tmpData,
              StandardOpenOption.WRITE,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING)) {
        long offset = 0;
        for (int i = 0; i < graph.getInitializerCount(); i++) {
          TensorProto tensor = graph.getInitializer(i);
          Checks.checkArgument(
              tensor.getDataLocation() != TensorProto.DataLocation.EXTERNAL,
              "Expected inline data for initializer '%s', found external data",
              tensor.getName());
          if (tensor.getDataType() == TensorProto.DataType.STRING_VALUE) {
            continue;
          }
          if (!tensor.hasRawData()) {
            Tensor parsed = Tensor.fromProto(tensor);
            tensor =
                tensor.toBuilder()
                    .clearFloatData()
                    .clearInt32Data()
                    .clearInt64Data()
                    .clearDoubleData()
                    .clearUint64Data()
                    .setRawData(ByteString.copyFrom(parsed.asReadOnlyBuffer()))
                    .build();
          }
          ByteString raw = tensor.getRawData();
          if (raw.size() < thresholdBytes || raw.isEmpty()) {
            continue;
          }
          offset = (offset + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
          ByteBuffer bytes = raw.asReadOnlyByteBuffer();
          long at = offset;
          while (bytes.hasRemaining()) {
            at += out.write(bytes, at);
          }
          graph.setInitializer(
              i,
              tensor.toBuilder()
                  .clearRawData()
                  .clearExternalData()
                  .addExternalData(entry("location", dataName))
                  .addExternalData(entry("offset", Long.toString(offset)))
                  .addExternalData(entry("length", Long.toString(raw.size())))
                  .setDataLocation(TensorProto.DataLocation.EXTERNAL));
          offset += raw.size();
          anyExternal = true;
        }
      }
      if (anyExternal) {
        moveIntoPlace(tmpData, dataFile);
      }
    } finally {
      Files.deleteIfExists(tmpData);
    }
    write(model.toBuilder().setGraph(graph).build(), target);
  }

  private static StringStringEntryProto entry(String key, String value) {
    return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
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

  /** Reads external tensor data, keeping each side file open until closed. */
  private static final class ExternalReader implements AutoCloseable {
    private final Path dir;
    private final Map<Path, FileChannel> open = new HashMap<>();

    ExternalReader(Path dir) {
      this.dir = dir;
    }

    /** Returns {@code graph} with external tensors inline; the same instance if none were. */
    GraphProto resolve(GraphProto graph) throws IOException {
      GraphProto.Builder builder = null;
      for (int i = 0; i < graph.getInitializerCount(); i++) {
        TensorProto tensor = graph.getInitializer(i);
        TensorProto inline = resolve(tensor);
        if (inline != tensor) {
          builder = builder == null ? graph.toBuilder() : builder;
          builder.setInitializer(i, inline);
        }
      }
      for (int i = 0; i < graph.getNodeCount(); i++) {
        NodeProto node = graph.getNode(i);
        NodeProto inline = resolve(node);
        if (inline != node) {
          builder = builder == null ? graph.toBuilder() : builder;
          builder.setNode(i, inline);
        }
      }
      return builder == null ? graph : builder.build();
    }

    private NodeProto resolve(NodeProto node) throws IOException {
      NodeProto.Builder builder = null;
      for (int i = 0; i < node.getAttributeCount(); i++) {
        AttributeProto attribute = node.getAttribute(i);
        AttributeProto.Builder changed = null;
        if (attribute.hasT()) {
          TensorProto inline = resolve(attribute.getT());
          if (inline != attribute.getT()) {
            changed = attribute.toBuilder().setT(inline);
          }
        }
        for (int t = 0; t < attribute.getTensorsCount(); t++) {
          TensorProto inline = resolve(attribute.getTensors(t));
          if (inline != attribute.getTensors(t)) {
            changed = changed == null ? attribute.toBuilder() : changed;
            changed.setTensors(t, inline);
          }
        }
        if (attribute.hasG()) {
          GraphProto inline = resolve(attribute.getG());
          if (inline != attribute.getG()) {
            changed = changed == null ? attribute.toBuilder() : changed;
            changed.setG(inline);
          }
        }
        for (int g = 0; g < attribute.getGraphsCount(); g++) {
          GraphProto inline = resolve(attribute.getGraphs(g));
          if (inline != attribute.getGraphs(g)) {
            changed = changed == null ? attribute.toBuilder() : changed;
            changed.setGraphs(g, inline);
          }
        }
        if (changed != null) {
          builder = builder == null ? node.toBuilder() : builder;
          builder.setAttribute(i, changed);
        }
      }
      return builder == null ? node : builder.build();
    }

    private TensorProto resolve(TensorProto tensor) throws IOException {
      if (tensor.getDataLocation() != TensorProto.DataLocation.EXTERNAL) {
        return tensor;
      }
      String location = null;
      long offset = 0;
      long length = -1;
      for (StringStringEntryProto entry : tensor.getExternalDataList()) {
        switch (entry.getKey()) {
          case "location" -> location = entry.getValue();
          case "offset" -> offset = parseLong(entry, tensor);
          case "length" -> length = parseLong(entry, tensor);
          default -> {
            // "checksum" and unknown keys are not needed to read the bytes
          }
        }
      }
      if (location == null || location.isEmpty()) {
        throw new ModelLoadException(
            "Expected a 'location' entry in the external data of tensor '"
                + tensor.getName()
                + "', found "
                + tensor.getExternalDataList().stream()
                    .map(StringStringEntryProto::getKey)
                    .toList());
      }
      Path file = dir.resolve(location).normalize();
      if (!file.startsWith(dir) || Path.of(location).isAbsolute()) {
        throw new ModelLoadException(
            "Expected the external data of tensor '"
                + tensor.getName()
                + "' inside the model directory '"
                + dir
                + "', found location '"
                + location
                + "'");
      }
      FileChannel channel = open.get(file);
      if (channel == null) {
        if (!Files.isRegularFile(file)) {
          throw new ModelLoadException(
              "External data file '"
                  + file
                  + "' of tensor '"
                  + tensor.getName()
                  + "' does not exist");
        }
        channel = FileChannel.open(file, StandardOpenOption.READ);
        open.put(file, channel);
      }
      long size = channel.size();
      long end = length < 0 ? size : offset + length;
      if (offset < 0 || end > size || end < offset || end - offset > Integer.MAX_VALUE - 8) {
        throw new ModelLoadException(
            "Expected bytes ["
                + offset
                + ", "
                + end
                + ") of external data file '"
                + file
                + "' for tensor '"
                + tensor.getName()
                + "', found a file of "
                + size
                + " bytes");
      }
      ByteBuffer bytes = ByteBuffer.allocate((int) (end - offset));
      long at = offset;
      while (bytes.hasRemaining()) {
        int read = channel.read(bytes, at);
        if (read < 0) {
          throw new ModelLoadException(
              "Expected "
                  + (end - offset)
                  + " bytes of '"
                  + file
                  + "' for tensor '"
                  + tensor.getName()
                  + "', found end of file at byte "
                  + at);
        }
        at += read;
      }
      bytes.flip();
      return tensor.toBuilder()
          .clearExternalData()
          .clearDataLocation()
          .setRawData(ByteString.copyFrom(bytes))
          .build();
    }

    private static long parseLong(StringStringEntryProto entry, TensorProto tensor)
        throws ModelLoadException {
      try {
        return Long.parseLong(entry.getValue());
      } catch (NumberFormatException e) {
        throw new ModelLoadException(
            "Expected a number for external data entry '"
                + entry.getKey()
                + "' of tensor '"
                + tensor.getName()
                + "', found '"
                + entry.getValue()
                + "'",
            e);
      }
    }

    @Override
    public void close() throws IOException {
      IOException failure = null;
      for (FileChannel channel : open.values()) {
        try {
          channel.close();
        } catch (IOException e) {
          if (failure == null) {
            failure = e;
          } else {
            failure.addSuppressed(e);
          }
        }
      }
      if (failure != null) {
        throw failure;
      }
    }
  }
}
