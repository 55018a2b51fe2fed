package dev.jbond.serving.embedded;

import dev.jbond.onnx.ModelLoadException;
import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.proto.GraphProto;
import dev.jbond.onnx.proto.ModelProto;
import dev.jbond.onnx.proto.TensorProto;
import dev.jbond.onnx.proto.TensorShapeProto;
import dev.jbond.onnx.proto.TypeProto;
import dev.jbond.onnx.proto.ValueInfoProto;
import dev.jbond.serving.triton.TritonDatatype;
import dev.jbond.serving.triton.proto.DataType;
import dev.jbond.serving.triton.proto.ModelConfig;
import dev.jbond.serving.triton.proto.ModelDynamicBatching;
import dev.jbond.serving.triton.proto.ModelInput;
import dev.jbond.serving.triton.proto.ModelOutput;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Model configuration rules shared by the repository reader and the server: datatype mappings,
 * which backend serves a configuration, and the completion and checking of an ONNX model's
 * configuration against the model file (Triton's auto-complete, {@code
 * --strict-model-config=false}).
 */
final class ModelConfigs {
  /** The platform Triton reports for ONNX Runtime models. */
  static final String ONNX_PLATFORM = "onnxruntime_onnx";

  /** The backend name of Triton's ONNX Runtime backend. */
  static final String ONNX_BACKEND = "onnxruntime";

  /** The model file name of an ONNX model version when the config names none. */
  static final String DEFAULT_ONNX_FILE = "model.onnx";

  private ModelConfigs() {}

  /** Which part of the server runs a model. */
  enum Kind {
    /** An ONNX graph run by ONNX Runtime, like Triton's ONNX Runtime backend. */
    ONNX,
    /** A generation model run by a {@link GenerationModel}. */
    GENERATION
  }

  /**
   * Returns which part of the server runs a configuration.
   *
   * @param model the model name, for the message
   * @param config the configuration
   * @return the kind
   * @throws ModelLoadException when the backend or platform is neither ONNX Runtime nor {@link
   *     GenerationModel#BACKEND}
   */
  static Kind kind(String model, ModelConfig config) throws ModelLoadException {
    String backend = config.getBackend();
    String platform = config.getPlatform();
    if (backend.equals(GenerationModel.BACKEND)) {
      return Kind.GENERATION;
    }
    if ((backend.isEmpty() || backend.equals(ONNX_BACKEND))
        && (platform.isEmpty() || platform.equals(ONNX_PLATFORM))) {
      return Kind.ONNX;
    }
    throw new ModelLoadException(
        "Model '"
            + model
            + "': expected backend '"
            + ONNX_BACKEND
            + "' (or platform '"
            + ONNX_PLATFORM
            + "') or backend '"
            + GenerationModel.BACKEND
            + "', found backend '"
            + backend
            + "', platform '"
            + platform
            + "'");
  }

  /**
   * Returns the wire datatype of a configuration datatype.
   *
   * @param type the configuration datatype
   * @return the wire datatype ({@code TYPE_STRING} is {@code BYTES})
   * @throws IllegalArgumentException for {@code TYPE_INVALID}
   */
  static TritonDatatype wireType(DataType type) {
    return switch (type) {
      case TYPE_BOOL -> TritonDatatype.BOOL;
      case TYPE_UINT8 -> TritonDatatype.UINT8;
      case TYPE_UINT16 -> TritonDatatype.UINT16;
      case TYPE_UINT32 -> TritonDatatype.UINT32;
      case TYPE_UINT64 -> TritonDatatype.UINT64;
      case TYPE_INT8 -> TritonDatatype.INT8;
      case TYPE_INT16 -> TritonDatatype.INT16;
      case TYPE_INT32 -> TritonDatatype.INT32;
      case TYPE_INT64 -> TritonDatatype.INT64;
      case TYPE_FP16 -> TritonDatatype.FP16;
      case TYPE_FP32 -> TritonDatatype.FP32;
      case TYPE_FP64 -> TritonDatatype.FP64;
      case TYPE_STRING -> TritonDatatype.BYTES;
      case TYPE_BF16 -> TritonDatatype.BF16;
      case TYPE_INVALID, UNRECOGNIZED ->
          throw new IllegalArgumentException(
              "Expected a tensor datatype, found " + type + " (set data_type in the config)");
    };
  }

  /**
   * Returns the ONNX element type of a wire datatype.
   *
   * @param type the wire datatype
   * @return the element type
   * @throws IllegalArgumentException for {@code BYTES}, which the ONNX backend does not serve
   */
  static ElementType elementType(TritonDatatype type) {
    return switch (type) {
      case BOOL -> ElementType.BOOL;
      case UINT8 -> ElementType.UINT8;
      case UINT16 -> ElementType.UINT16;
      case UINT32 -> ElementType.UINT32;
      case UINT64 -> ElementType.UINT64;
      case INT8 -> ElementType.INT8;
      case INT16 -> ElementType.INT16;
      case INT32 -> ElementType.INT32;
      case INT64 -> ElementType.INT64;
      case FP16 -> ElementType.FLOAT16;
      case FP32 -> ElementType.FLOAT;
      case FP64 -> ElementType.DOUBLE;
      case BF16 -> ElementType.BFLOAT16;
      case BYTES ->
          throw new IllegalArgumentException(
              "Expected a numeric or BOOL datatype for the ONNX backend, found BYTES");
    };
  }

  /**
   * Returns the wire datatype of an ONNX element type, or null when Triton has none.
   *
   * @param type the element type
   * @return the wire datatype, or null
   */
  static TritonDatatype wireType(ElementType type) {
    return switch (type) {
      case BOOL -> TritonDatatype.BOOL;
      case UINT8 -> TritonDatatype.UINT8;
      case UINT16 -> TritonDatatype.UINT16;
      case UINT32 -> TritonDatatype.UINT32;
      case UINT64 -> TritonDatatype.UINT64;
      case INT8 -> TritonDatatype.INT8;
      case INT16 -> TritonDatatype.INT16;
      case INT32 -> TritonDatatype.INT32;
      case INT64 -> TritonDatatype.INT64;
      case FLOAT16 -> TritonDatatype.FP16;
      case FLOAT -> TritonDatatype.FP32;
      case DOUBLE -> TritonDatatype.FP64;
      case BFLOAT16 -> TritonDatatype.BF16;
      default -> null;
    };
  }

  /**
   * Returns the configuration datatype of a wire datatype.
   *
   * @param type the wire datatype
   * @return the configuration datatype ({@code BYTES} is {@code TYPE_STRING})
   */
  static DataType configType(TritonDatatype type) {
    return type == TritonDatatype.BYTES ? DataType.TYPE_STRING : DataType.valueOf("TYPE_" + type);
  }

  /**
   * Returns the full request shape of a configured tensor: {@code [-1] + dims} when the model
   * batches ({@code max_batch_size > 0}), else {@code dims}.
   *
   * @param config the configuration
   * @param dims the configured dims
   * @return the shape, {@code -1} for variable dimensions
   */
  static List<Long> fullShape(ModelConfig config, List<Long> dims) {
    List<Long> shape = new ArrayList<>(dims.size() + 1);
    if (config.getMaxBatchSize() > 0) {
      shape.add(-1L);
    }
    shape.addAll(dims);
    return shape;
  }

  /** An input or output of an ONNX graph: name, datatype and dims ({@code -1} when variable). */
  private record GraphTensor(String name, TritonDatatype type, List<Long> dims) {}

  /**
   * Completes a configuration from an ONNX model and checks that the two agree.
   *
   * <p>Completion, as Triton's ONNX Runtime backend does it: missing inputs and outputs are taken
   * from the graph; without a config file ({@code written} false) {@code max_batch_size} becomes
   * {@code defaultMaxBatchSize} when every graph input and output has a variable first dimension
   * (and 0 otherwise), and dynamic batching is switched on; an empty name, platform and backend are
   * filled in.
   *
   * @param model the model name
   * @param version the version directory number, for messages
   * @param given the configuration as written (an empty one when there is no file)
   * @param written whether a configuration was written (config.pbtxt or the load's JSON)
   * @param onnx the ONNX model (only its graph's inputs, outputs and initializer names are read)
   * @param defaultMaxBatchSize the batch size of auto-configured batching models
   * @return the completed configuration
   * @throws ModelLoadException when the configuration and the graph disagree, or the graph uses a
   *     type Triton cannot describe
   */
  static ModelConfig completeOnnx(
      String model,
      long version,
      ModelConfig given,
      boolean written,
      ModelProto onnx,
      int defaultMaxBatchSize)
      throws ModelLoadException {
    String where = "Model '" + model + "' version " + version;
    GraphProto graph = onnx.getGraph();
    Set<String> initializers = new HashSet<>();
    for (TensorProto initializer : graph.getInitializerList()) {
      initializers.add(initializer.getName());
    }
    Map<String, GraphTensor> inputs = new LinkedHashMap<>();
    for (ValueInfoProto value : graph.getInputList()) {
      if (!initializers.contains(value.getName())) {
        inputs.put(value.getName(), graphTensor(where, "input", value));
      }
    }
    Map<String, GraphTensor> outputs = new LinkedHashMap<>();
    for (ValueInfoProto value : graph.getOutputList()) {
      outputs.put(value.getName(), graphTensor(where, "output", value));
    }

    ModelConfig.Builder config = given.toBuilder();
    if (config.getName().isEmpty()) {
      config.setName(model);
    }
    if (config.getBackend().isEmpty() && config.getPlatform().isEmpty()) {
      config.setPlatform(ONNX_PLATFORM);
    }
    if (config.getBackend().isEmpty()) {
      config.setBackend(ONNX_BACKEND);
    }
    if (!written) {
      boolean batchable = !inputs.isEmpty();
      for (GraphTensor tensor : concat(inputs, outputs)) {
        batchable &= !tensor.dims().isEmpty() && tensor.dims().get(0) == -1L;
      }
      if (batchable && defaultMaxBatchSize > 0) {
        config.setMaxBatchSize(defaultMaxBatchSize);
        config.setDynamicBatching(ModelDynamicBatching.getDefaultInstance());
      }
    }
    if (config.getMaxBatchSize() < 0) {
      throw new ModelLoadException(
          where + ": expected max_batch_size >= 0, found " + config.getMaxBatchSize());
    }
    boolean batching = config.getMaxBatchSize() > 0;
    if (config.getInputCount() == 0) {
      for (GraphTensor tensor : inputs.values()) {
        config.addInput(
            ModelInput.newBuilder()
                .setName(tensor.name())
                .setDataType(configType(tensor.type()))
                .addAllDims(batching ? dropFirst(tensor.dims()) : tensor.dims()));
      }
    }
    if (config.getOutputCount() == 0) {
      for (GraphTensor tensor : outputs.values()) {
        config.addOutput(
            ModelOutput.newBuilder()
                .setName(tensor.name())
                .setDataType(configType(tensor.type()))
                .addAllDims(batching ? dropFirst(tensor.dims()) : tensor.dims()));
      }
    }
    ModelConfig result = config.build();

    Set<String> configured = new HashSet<>();
    for (ModelInput input : result.getInputList()) {
      configured.add(input.getName());
      check(
          where,
          "input",
          input.getName(),
          input.getDataType(),
          input.getDimsList(),
          input.hasReshape(),
          batching,
          inputs);
    }
    List<String> missing = new ArrayList<>();
    for (String name : inputs.keySet()) {
      if (!configured.contains(name)) {
        missing.add(name);
      }
    }
    if (!missing.isEmpty()) {
      throw new ModelLoadException(
          where
              + ": expected a config input for every input of the ONNX model "
              + List.copyOf(inputs.keySet())
              + ", missing "
              + missing);
    }
    for (ModelOutput output : result.getOutputList()) {
      check(
          where,
          "output",
          output.getName(),
          output.getDataType(),
          output.getDimsList(),
          output.hasReshape(),
          batching,
          outputs);
    }
    return result;
  }

  private static void check(
      String where,
      String role,
      String name,
      DataType dataType,
      List<Long> dims,
      boolean reshape,
      boolean batching,
      Map<String, GraphTensor> graph)
      throws ModelLoadException {
    GraphTensor tensor = graph.get(name);
    if (tensor == null) {
      throw new ModelLoadException(
          where
              + ": expected config "
              + role
              + " '"
              + name
              + "' to be an "
              + role
              + " of the ONNX model, found "
              + List.copyOf(graph.keySet()));
    }
    if (reshape) {
      throw new ModelLoadException(
          where + ": expected no reshape for " + role + " '" + name + "' of an ONNX model");
    }
    TritonDatatype configured;
    try {
      configured = wireType(dataType);
    } catch (IllegalArgumentException e) {
      throw new ModelLoadException(where + ": " + role + " '" + name + "': " + e.getMessage(), e);
    }
    if (configured != tensor.type()) {
      throw new ModelLoadException(
          where
              + ": expected data_type "
              + configType(tensor.type())
              + " for "
              + role
              + " '"
              + name
              + "' (the ONNX model's), found "
              + dataType);
    }
    List<Long> modelDims = tensor.dims();
    if (batching) {
      if (modelDims.isEmpty() || modelDims.get(0) != -1L) {
        throw new ModelLoadException(
            where
                + ": expected a variable first dimension in "
                + role
                + " '"
                + name
                + "' of the ONNX model because max_batch_size > 0, found "
                + modelDims);
      }
      modelDims = dropFirst(modelDims);
    }
    boolean compatible = modelDims.size() == dims.size();
    for (int i = 0; compatible && i < dims.size(); i++) {
      compatible = modelDims.get(i) == -1L || modelDims.get(i).equals(dims.get(i));
    }
    if (!compatible) {
      throw new ModelLoadException(
          where
              + ": expected dims compatible with "
              + modelDims
              + " for "
              + role
              + " '"
              + name
              + "' (the ONNX model's"
              + (batching ? ", without the batch dimension" : "")
              + "), found "
              + dims);
    }
  }

  private static GraphTensor graphTensor(String where, String role, ValueInfoProto value)
      throws ModelLoadException {
    TypeProto type = value.getType();
    if (!type.hasTensorType() || !type.getTensorType().hasElemType()) {
      throw new ModelLoadException(
          where + ": expected a tensor type for " + role + " '" + value.getName() + "'");
    }
    TritonDatatype datatype;
    try {
      datatype = wireType(ElementType.fromCode(type.getTensorType().getElemType()));
    } catch (IllegalArgumentException unsupported) {
      datatype = null;
    }
    if (datatype == null) {
      throw new ModelLoadException(
          where
              + ": expected a numeric or BOOL element type for "
              + role
              + " '"
              + value.getName()
              + "', found ONNX type code "
              + type.getTensorType().getElemType());
    }
    if (!type.getTensorType().hasShape()) {
      throw new ModelLoadException(
          where
              + ": expected a known rank for "
              + role
              + " '"
              + value.getName()
              + "' (write its dims in config.pbtxt), found none");
    }
    List<Long> dims = new ArrayList<>();
    for (TensorShapeProto.Dimension dim : type.getTensorType().getShape().getDimList()) {
      dims.add(dim.hasDimValue() && dim.getDimValue() >= 0 ? dim.getDimValue() : -1L);
    }
    return new GraphTensor(value.getName(), datatype, List.copyOf(dims));
  }

  private static List<GraphTensor> concat(
      Map<String, GraphTensor> first, Map<String, GraphTensor> second) {
    List<GraphTensor> all = new ArrayList<>(first.values());
    all.addAll(second.values());
    return all;
  }

  private static List<Long> dropFirst(List<Long> dims) {
    return dims.isEmpty() ? dims : dims.subList(1, dims.size());
  }
}
