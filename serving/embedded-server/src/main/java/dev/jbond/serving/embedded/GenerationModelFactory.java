package dev.jbond.serving.embedded;

import dev.jbond.onnx.ModelLoadException;
import dev.jbond.serving.triton.proto.ModelConfig;

/**
 * Makes the {@link GenerationModel} of one model version when the server loads a model whose
 * configuration says {@code backend: "jbond-generate"}. Given to {@link
 * EmbeddedTritonServer.Builder#optGenerationModelFactory}.
 */
@FunctionalInterface
public interface GenerationModelFactory {
  /**
   * Completes a configuration that lists no inputs and no outputs with the tensors the models of
   * this factory take and return, as Triton auto-completes the configuration of an ONNX model, so
   * that {@code ModelMetadata} and {@code ModelConfig} let a client discover them. Default: the
   * configuration as it is.
   *
   * @param config the model's configuration, with its name filled in
   * @return the configuration to serve
   */
  default ModelConfig complete(ModelConfig config) {
    return config;
  }

  /**
   * Creates the model of one version.
   *
   * @param config the model's configuration, with its name filled in; the implementation may read
   *     its {@code parameters}
   * @param version the version directory, whose files the implementation reads
   * @return the model; the server closes it
   * @throws ModelLoadException when the version's files cannot be read or are not a model; the load
   *     fails with that message
   */
  GenerationModel create(ModelConfig config, ModelVersionDirectory version)
      throws ModelLoadException;
}
