package dev.jbond.serving.embedded;

import java.util.List;
import java.util.Objects;

/**
 * One run of a plain (ONNX) model, as reported to {@link EmbeddedServerListener#beforeBatch}.
 *
 * @param model the model name
 * @param version the served version number
 * @param requestIds the ids of the requests batched into the run, in queue order (empty ids
 *     included); copied
 * @param rows the batch size of the run: the sum of the requests' batch sizes (the number of
 *     requests for a model that does not batch)
 */
public record BatchInfo(String model, long version, List<String> requestIds, int rows) {
  /**
   * Validates and copies the components.
   *
   * @param model see the record description
   * @param version see the record description
   * @param requestIds see the record description
   * @param rows see the record description
   */
  public BatchInfo {
    Objects.requireNonNull(model, "model");
    requestIds = List.copyOf(requestIds);
  }
}
