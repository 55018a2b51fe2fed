package dev.jbond.serving;

import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.TextFormat;
import dev.jbond.models.decoder.DecoderWeights;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.models.policy.PolicyFiles;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.serving.TensorProfile.Slot;
import dev.jbond.serving.triton.TritonDatatype;
import dev.jbond.serving.triton.proto.DataType;
import dev.jbond.serving.triton.proto.ModelConfig;
import dev.jbond.serving.triton.proto.ModelInput;
import dev.jbond.serving.triton.proto.ModelOutput;
import dev.jbond.serving.triton.proto.ModelParameter;
import dev.jbond.serving.triton.proto.ModelTransactionPolicy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Model configurations and repository layout of jbond generation models served with the
 * TensorRT-LLM {@code tensorrt_llm} profile by the embedded server ({@code backend:
 * "jbond-generate"}): {@code <repository>/<model>/config.pbtxt} and {@code
 * <repository>/<model>/<version>/} holding a jbond model directory.
 */
public final class TrtLlmModelConfig {
  /** The backend name the embedded server dispatches to its generation models. */
  public static final String BACKEND = "jbond-generate";

  private TrtLlmModelConfig() {}

  /**
   * Returns the configuration of a generation model: every profile input ({@code input_ids} with
   * dims {@code [-1]}, the others {@code [1]}, all but the ids, lengths and output length optional)
   * and output.
   *
   * @param model the model name
   * @param maxBatchSize the largest batch per request, {@code >= 1}
   * @param decoupled whether the model answers over ModelStreamInfer only, one response per row
   * @param profile the tensor names and datatypes
   * @return the configuration
   * @throws IllegalArgumentException when {@code maxBatchSize < 1}
   */
  public static ModelConfig config(
      String model, int maxBatchSize, boolean decoupled, TensorProfile profile) {
    if (maxBatchSize < 1) {
      throw new IllegalArgumentException("Expected max_batch_size >= 1, found " + maxBatchSize);
    }
    DataType token = dataType(profile.tokenDatatype());
    ModelConfig.Builder config =
        ModelConfig.newBuilder()
            .setName(model)
            .setBackend(BACKEND)
            .setMaxBatchSize(maxBatchSize)
            .setModelTransactionPolicy(
                ModelTransactionPolicy.newBuilder().setDecoupled(decoupled).build());
    config.addInput(input(profile, Slot.INPUT_IDS, token, -1, false));
    config.addInput(input(profile, Slot.INPUT_LENGTHS, token, 1, false));
    config.addInput(input(profile, Slot.REQUEST_OUTPUT_LEN, token, 1, false));
    config.addInput(input(profile, Slot.END_ID, token, 1, true));
    config.addInput(input(profile, Slot.PAD_ID, token, 1, true));
    config.addInput(input(profile, Slot.TEMPERATURE, DataType.TYPE_FP32, 1, true));
    config.addInput(input(profile, Slot.RUNTIME_TOP_K, token, 1, true));
    config.addInput(input(profile, Slot.RUNTIME_TOP_P, DataType.TYPE_FP32, 1, true));
    config.addInput(input(profile, Slot.SEED, dataType(profile.seedDatatype()), 1, true));
    config.addInput(input(profile, Slot.RETURN_LOG_PROBS, DataType.TYPE_BOOL, 1, true));
    config.addInput(input(profile, Slot.EXCLUDE_INPUT_IN_OUTPUT, DataType.TYPE_BOOL, 1, true));
    config.addInput(input(profile, Slot.LORA_TASK_ID, DataType.TYPE_UINT64, 1, true));
    config.addInput(
        input(profile, Slot.LORA_WEIGHTS, DataType.TYPE_FP16, -1, true).toBuilder()
            .addDims(-1)
            .setAllowRaggedBatch(true)
            .build());
    config.addInput(
        input(profile, Slot.LORA_CONFIG, DataType.TYPE_INT32, -1, true).toBuilder()
            .addDims(3)
            .setAllowRaggedBatch(true)
            .build());
    config.addOutput(output(profile, Slot.OUTPUT_IDS, token, List.of(-1L, -1L)));
    config.addOutput(output(profile, Slot.SEQUENCE_LENGTH, token, List.of(-1L)));
    config.addOutput(output(profile, Slot.OUTPUT_LOG_PROBS, DataType.TYPE_FP32, List.of(-1L, -1L)));
    config.addOutput(output(profile, Slot.CUM_LOG_PROBS, DataType.TYPE_FP32, List.of(-1L)));
    config.addOutput(output(profile, Slot.BATCH_INDEX, token, List.of(1L)));
    return config.build();
  }

  /**
   * The {@code parameters} key of TensorRT-LLM's host LoRA cache size in bytes; the embedded server
   * serves adapters per request when a model's configuration sets it.
   */
  public static final String LORA_CACHE_BYTES = "lora_cache_host_memory_bytes";

  /**
   * Returns a configuration that takes LoRA adapters per request, as TensorRT-LLM's does once its
   * engine is built with {@code --lora_plugin}: {@code lora_weights} of the adapters' datatype and
   * the host cache size as {@value #LORA_CACHE_BYTES}.
   *
   * @param config a configuration of {@link #config}
   * @param profile its tensor names
   * @param weights the adapters' datatype: FP16, BF16 or FP32
   * @param cacheBytes the host cache size, {@code >= 1}
   * @return the configuration
   * @throws IllegalArgumentException when the datatype or size is not allowed
   */
  public static ModelConfig withLora(
      ModelConfig config, TensorProfile profile, TritonDatatype weights, long cacheBytes) {
    if (weights != TritonDatatype.FP16
        && weights != TritonDatatype.BF16
        && weights != TritonDatatype.FP32) {
      throw new IllegalArgumentException(
          "Expected LoRA weights of datatype FP16, BF16 or FP32, found " + weights);
    }
    if (cacheBytes < 1) {
      throw new IllegalArgumentException("Expected a LoRA cache of >= 1 byte, found " + cacheBytes);
    }
    ModelConfig.Builder out = config.toBuilder();
    for (int i = 0; i < out.getInputCount(); i++) {
      if (out.getInput(i).getName().equals(profile.name(Slot.LORA_WEIGHTS))) {
        out.setInput(i, out.getInput(i).toBuilder().setDataType(dataType(weights)).build());
      }
    }
    out.putParameters(
        LORA_CACHE_BYTES,
        ModelParameter.newBuilder().setStringValue(Long.toString(cacheBytes)).build());
    return out.build();
  }

  private static ModelInput input(
      TensorProfile profile, Slot slot, DataType type, long dim, boolean optional) {
    return ModelInput.newBuilder()
        .setName(profile.name(slot))
        .setDataType(type)
        .addDims(dim)
        .setOptional(optional)
        .build();
  }

  private static ModelOutput output(
      TensorProfile profile, Slot slot, DataType type, List<Long> dims) {
    return ModelOutput.newBuilder()
        .setName(profile.name(slot))
        .setDataType(type)
        .addAllDims(dims)
        .build();
  }

  private static DataType dataType(TritonDatatype type) {
    return switch (type) {
      case INT32 -> DataType.TYPE_INT32;
      case INT64 -> DataType.TYPE_INT64;
      case UINT64 -> DataType.TYPE_UINT64;
      case FP16 -> DataType.TYPE_FP16;
      case BF16 -> DataType.TYPE_BF16;
      case FP32 -> DataType.TYPE_FP32;
      default -> throw new IllegalArgumentException("Unsupported profile datatype " + type);
    };
  }

  /**
   * Renders a configuration in Triton's text format ({@code config.pbtxt}).
   *
   * @param config the configuration
   * @return the text
   */
  public static String toPbtxt(ModelConfig config) {
    return TextFormat.printer().printToString(config);
  }

  /**
   * Renders a configuration as protobuf JSON with proto field names, the form RepositoryModelLoad's
   * {@code config} parameter takes. Covers the message, repeated, enum, string, bool and number
   * fields that {@link #config} sets; map fields are not rendered.
   *
   * @param config the configuration
   * @return the JSON text
   * @throws IllegalArgumentException when the configuration has a map field set
   */
  public static String toJson(ModelConfig config) {
    StringBuilder out = new StringBuilder();
    writeMessage(config, out);
    return out.toString();
  }

  private static void writeMessage(Message message, StringBuilder out) {
    out.append('{');
    boolean first = true;
    for (Map.Entry<FieldDescriptor, Object> field : message.getAllFields().entrySet()) {
      FieldDescriptor descriptor = field.getKey();
      if (descriptor.isMapField()) {
        throw new IllegalArgumentException(
            "Expected no map fields in the model configuration, found '"
                + descriptor.getName()
                + "'");
      }
      if (!first) {
        out.append(',');
      }
      first = false;
      out.append('"').append(descriptor.getName()).append("\":");
      if (descriptor.isRepeated()) {
        out.append('[');
        List<?> values = (List<?>) field.getValue();
        for (int i = 0; i < values.size(); i++) {
          if (i > 0) {
            out.append(',');
          }
          writeValue(values.get(i), out);
        }
        out.append(']');
      } else {
        writeValue(field.getValue(), out);
      }
    }
    out.append('}');
  }

  private static void writeValue(Object value, StringBuilder out) {
    if (value instanceof Message message) {
      writeMessage(message, out);
    } else if (value instanceof EnumValueDescriptor e) {
      out.append('"').append(e.getName()).append('"');
    } else if (value instanceof String s) {
      out.append('"');
      for (char c : s.toCharArray()) {
        if (c == '"' || c == '\\') {
          out.append('\\').append(c);
        } else if (c < 0x20) {
          out.append(String.format("\\u%04x", (int) c));
        } else {
          out.append(c);
        }
      }
      out.append('"');
    } else {
      out.append(value);
    }
  }

  /**
   * Writes a generation model into a model repository: {@code <repository>/<model>/config.pbtxt}
   * and the model directory of {@code weights} in {@code <repository>/<model>/<version>/}.
   *
   * @param repository the repository root
   * @param config the model's configuration (its name is the directory name)
   * @param version the version directory number, {@code >= 1}
   * @param weights the decoder weights
   * @param eosTokenId the EOS id recorded in the model directory, when known
   * @param padTokenId the pad id recorded in the model directory, when known
   * @return the version directory
   * @throws IOException when a file cannot be written
   */
  public static ModelDirectory write(
      Path repository,
      ModelConfig config,
      long version,
      DecoderWeights weights,
      OptionalInt eosTokenId,
      OptionalInt padTokenId)
      throws IOException {
    if (version < 1) {
      throw new IllegalArgumentException("Expected a model version >= 1, found " + version);
    }
    Path model = repository.resolve(config.getName());
    ModelDirectory directory =
        ModelDirectory.write(
            model.resolve(Long.toString(version)), weights, eosTokenId, padTokenId);
    writeConfig(repository, config);
    return directory;
  }

  /**
   * Writes a version of a model into a Triton model repository from any policy's files: {@code
   * <repository>/<name>/<version>/} holds {@link PolicyFiles#writeServed} of {@code files} with
   * {@code weights}, and {@code <repository>/<name>/config.pbtxt} the configuration.
   *
   * @param repository the repository root
   * @param config the model configuration (its name names the model directory)
   * @param version the version, {@code >= 1}
   * @param files the policy's files
   * @param weights trained parameters by full-sequence graph name; empty for the files' own
   * @throws IllegalArgumentException when {@code version < 1}
   * @throws IOException when a file cannot be read or written
   */
  public static void write(
      Path repository,
      ModelConfig config,
      long version,
      PolicyFiles files,
      Map<String, Tensor> weights)
      throws IOException {
    if (version < 1) {
      throw new IllegalArgumentException("Expected a model version >= 1, found " + version);
    }
    files.writeServed(
        repository.resolve(config.getName()).resolve(Long.toString(version)), weights);
    writeConfig(repository, config);
  }

  /**
   * Writes {@code <repository>/<name>/config.pbtxt}.
   *
   * @param repository the repository root
   * @param config the model configuration
   * @throws IOException when the file cannot be written
   */
  public static void writeConfig(Path repository, ModelConfig config) throws IOException {
    Path model = repository.resolve(config.getName());
    Files.createDirectories(model);
    Files.writeString(model.resolve("config.pbtxt"), toPbtxt(config), StandardCharsets.UTF_8);
  }
}
