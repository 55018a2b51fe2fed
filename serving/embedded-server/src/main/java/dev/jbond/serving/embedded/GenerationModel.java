package dev.jbond.serving.embedded;

/**
 * A generation model served by {@link EmbeddedTritonServer}: the hook for models whose
 * configuration says {@code backend: "jbond-generate"} (for example the TensorRT-LLM {@code
 * tensorrt_llm} token-id profile on top of an in-process sampler).
 *
 * <p>The server checks each request against the model's configuration (when it lists inputs) and
 * calls {@link #generate} once per request, on one of its worker threads and possibly from several
 * threads at once, so an implementation can batch concurrent requests step by step. The model
 * answers through the {@link GenerationResponder}, from any thread, at any time:
 *
 * <ul>
 *   <li>a model whose configuration is not decoupled sends exactly one response ({@code
 *       responder.send(outputs, true)}); ModelInfer and ModelStreamInfer both serve it;
 *   <li>a decoupled model ({@code model_transaction_policy { decoupled: true }}) sends any number
 *       of responses and ends with {@link GenerationResponder#complete()} (or a last response sent
 *       with {@code last = true}); only ModelStreamInfer serves it, as in Triton.
 * </ul>
 *
 * <p>Lifecycle: {@link GenerationModelFactory#create} makes one instance per loaded version; the
 * server closes it once the version is unloaded or replaced and its last request has finished.
 */
public interface GenerationModel extends AutoCloseable {
  /** The {@code backend} value of a model configuration that the server dispatches here. */
  String BACKEND = "jbond-generate";

  /**
   * Starts answering one request. Should return quickly; long work belongs on the model's own
   * threads or in the responder calls that follow.
   *
   * @param request the checked request
   * @param responder where the responses go; valid until the request is completed or failed
   */
  void generate(GenerationRequest request, GenerationResponder responder);

  /** Releases the model's resources; called once, after its last request finished. */
  @Override
  void close();
}
