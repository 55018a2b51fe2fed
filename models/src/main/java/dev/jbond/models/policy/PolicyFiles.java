package dev.jbond.models.policy;

import dev.jbond.models.chat.ChatTemplate;
import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.models.tokenizer.Tokenizer;
import dev.jbond.onnx.ModelLoadException;
import dev.jbond.onnx.graph.Graph;
import dev.jbond.onnx.graph.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The files of a policy: the full-sequence graph the learner trains, the graph a sampler runs (a
 * graph with past keys and values when there is one, else the full-sequence graph, which then
 * recomputes the whole sequence per token), the special tokens, the tokenizer, and how a learner's
 * weights become a sampler's graph.
 *
 * <p>Two kinds exist: jbond's decoder directory ({@link ModelDirectory}, {@code config.json} with
 * {@code "format": "jbond-decoder"}) and a causal LM exported to ONNX ({@link ExportDirectory}, any
 * other {@code config.json}). {@link #open} tells them apart.
 *
 * <p>Weights passed to {@link #samplingGraph(Map)} and {@link #writeServed(Path, Map)} are a
 * learner's trainable parameters by the names of the full-sequence graph's initializers (as {@code
 * OrtPolicyLearner.weights} returns them); parameters the learner does not train keep the values of
 * the files.
 */
public interface PolicyFiles {
  /**
   * Opens the policy files in {@code root}: a jbond decoder directory when its {@code config.json}
   * says {@code "format": "jbond-decoder"}, else an ONNX export.
   *
   * @param root the directory
   * @return the files
   * @throws ModelLoadException when the directory holds no policy, or its files break the contract
   * @throws IOException when a file cannot be read
   */
  static PolicyFiles open(Path root) throws IOException {
    Objects.requireNonNull(root, "root");
    if (!Files.isDirectory(root)) {
      throw new ModelLoadException(
          "Expected a policy model directory at "
              + root
              + ", found "
              + (Files.exists(root) ? "a file" : "nothing"));
    }
    if (ModelDirectory.isDecoderDirectory(root)) {
      return ModelDirectory.read(root);
    }
    return ExportDirectory.open(root);
  }

  /**
   * Returns the directory.
   *
   * @return the root
   */
  Path root();

  /**
   * Returns the full-sequence graph ({@code input_ids} [+ {@code attention_mask}, {@code
   * position_ids}] to {@code logits}), which the learner trains.
   *
   * @return the file
   * @throws ModelLoadException when these files hold only a sampling graph (a served copy)
   */
  Path fullGraph() throws ModelLoadException;

  /**
   * Tells whether the sampling graph takes past keys and values ({@code past_key_values.*} in,
   * {@code present.*} out); when false it is the full-sequence graph.
   *
   * @return true for a KV-cache graph
   */
  boolean cachedSampling();

  /**
   * Returns the graph a sampler runs.
   *
   * @return the file
   */
  Path samplingGraph();

  /**
   * Returns the number of token ids the model scores (the logits' last dimension).
   *
   * @return the vocabulary size, {@code >= 1}
   */
  int vocabSize();

  /**
   * Returns the longest sequence, prompt and completion, the model takes.
   *
   * @return the context length, {@code >= 1}
   */
  int contextLength();

  /**
   * Returns the end-of-sequence token, when known.
   *
   * @return the EOS id, or empty
   */
  OptionalInt eosTokenId();

  /**
   * Returns the padding token, when known.
   *
   * @return the pad id, or empty
   */
  OptionalInt padTokenId();

  /**
   * Returns the tokenizer, when one is known.
   *
   * @return the tokenizer, or empty
   * @throws IOException when the tokenizer file cannot be read or breaks its format
   */
  Optional<Tokenizer> tokenizer() throws IOException;

  /**
   * Returns the chat template of the model's {@code tokenizer_config.json}, when it has one.
   *
   * @return the template, or empty
   * @throws IOException when the file cannot be read or is not a tokenizer configuration
   */
  default Optional<ChatTemplate> chatTemplate() throws IOException {
    return ChatTemplate.find(root());
  }

  /**
   * Returns a digest of the files that fix the model's initial weights and configuration, to tell
   * whether two directories hold the same policy.
   *
   * @return {@code "sha256:"} and the hex digest
   * @throws IOException when a file cannot be read
   */
  String identity() throws IOException;

  /**
   * Returns the sampling graph with {@code weights} in it, data inline, for an in-process sampler.
   *
   * @param weights trainable parameters by full-sequence graph name
   * @return a new graph
   * @throws IllegalArgumentException when a parameter is missing or has the wrong shape, or the two
   *     graphs' weights cannot be matched
   * @throws IOException when the sampling graph cannot be read
   */
  Graph samplingGraph(Map<String, Tensor> weights) throws IOException;

  /**
   * Writes a directory that {@link #open} reads as these files with {@code weights}: what a
   * Triton-protocol server loads as a new version of the model. It holds at least the sampling
   * graph and the metadata.
   *
   * @param target an empty or absent directory
   * @param weights trainable parameters by full-sequence graph name; empty for the files' own
   * @throws IOException when a file cannot be read or written
   */
  void writeServed(Path target, Map<String, Tensor> weights) throws IOException;
}
