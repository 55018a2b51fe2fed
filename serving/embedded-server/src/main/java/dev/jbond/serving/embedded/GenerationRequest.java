package dev.jbond.serving.embedded;

import dev.jbond.serving.triton.TritonTensor;
import dev.jbond.serving.triton.proto.InferParameter;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One inference request for a {@link GenerationModel}, decoded and checked against the model's
 * configuration.
 *
 * @param model the model name
 * @param version the served version number
 * @param id the request id (echoed in every response; may be empty)
 * @param inputs the input tensors by name, in request order (or configuration order when the
 *     configuration lists inputs); copied, iteration order kept
 * @param parameters the request parameters other than Triton's reserved {@code triton_*} keys;
 *     copied
 * @param outputs the output names the client asked for, or every configured output when it asked
 *     for none (empty when the configuration lists none); copied
 * @param deadline when the client stops waiting, on the server's clock, if it set a deadline
 * @param decoupled whether the model's configuration is decoupled
 */
public record GenerationRequest(
    String model,
    long version,
    String id,
    Map<String, TritonTensor> inputs,
    Map<String, InferParameter> parameters,
    List<String> outputs,
    Optional<Instant> deadline,
    boolean decoupled) {
  /**
   * Validates and copies the components.
   *
   * @param model see the record description
   * @param version see the record description
   * @param id see the record description
   * @param inputs see the record description
   * @param parameters see the record description
   * @param outputs see the record description
   * @param deadline see the record description
   * @param decoupled see the record description
   */
  public GenerationRequest {
    Objects.requireNonNull(model, "model");
    Objects.requireNonNull(id, "id");
    inputs = Collections.unmodifiableMap(new LinkedHashMap<>(inputs));
    parameters = Map.copyOf(parameters);
    outputs = List.copyOf(outputs);
    Objects.requireNonNull(deadline, "deadline");
  }
}
