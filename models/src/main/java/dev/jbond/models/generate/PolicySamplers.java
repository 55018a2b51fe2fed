package dev.jbond.models.generate;

import dev.jbond.models.decoder.ModelDirectory;
import dev.jbond.models.policy.PolicyFiles;
import dev.jbond.onnx.ort.OrtModelSession;
import java.util.Objects;

/**
 * Opens the {@link SequenceSampler} that fits a policy's sampling graph: a {@link KvCacheSampler}
 * over a graph with past keys and values (jbond's decode graph, or an export's), else a {@link
 * FullSequenceSampler} that recomputes the sequence for every token.
 */
public final class PolicySamplers {
  private PolicySamplers() {}

  /**
   * Returns the sampler over a session of {@code files.samplingGraph()}.
   *
   * @param files the policy's files (its sizes and graph kind)
   * @param session a session over the sampling graph; not closed by the sampler
   * @param small a one-thread session over the same graph for small batches, or null
   * @param maxBatchRows the largest number of rows decoded together
   * @param smallBatchRows the largest batch run on {@code small}; ignored without it
   * @return the sampler
   * @throws IllegalArgumentException when the session's inputs and outputs do not fit the files
   */
  public static SequenceSampler open(
      PolicyFiles files,
      OrtModelSession session,
      OrtModelSession small,
      int maxBatchRows,
      int smallBatchRows) {
    Objects.requireNonNull(files, "files");
    if (!files.cachedSampling()) {
      return new FullSequenceSampler(
          session, files.vocabSize(), files.contextLength(), maxBatchRows);
    }
    KvCacheSampler sampler =
        files instanceof ModelDirectory d
            ? new KvCacheSampler(session, d.config(), maxBatchRows)
            : new KvCacheSampler(
                session, DecodeGraphSpec.read(session, files.contextLength()), maxBatchRows);
    return small == null ? sampler : sampler.withSmallBatchSession(small, smallBatchRows);
  }

  /**
   * Returns the one-line note that sampling without a past-key/values graph recomputes the whole
   * sequence per token, with what that costs; empty for a cached graph.
   *
   * @param files the policy's files
   * @param maxNewTokens the completion length sampled
   * @return the note, or an empty string
   */
  public static String costNote(PolicyFiles files, int maxNewTokens) {
    if (files.cachedSampling()) {
      return "";
    }
    return "Note: "
        + files.root()
        + " has no past-key/values graph (model_with_past.onnx), so sampling runs the"
        + " full-sequence graph over the whole sequence for every new token: about "
        + Math.max(1, maxNewTokens / 2)
        + "x the work of a cached decode at "
        + maxNewTokens
        + " new tokens (and more for long prompts)";
  }
}
