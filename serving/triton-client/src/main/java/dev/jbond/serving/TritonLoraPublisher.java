package dev.jbond.serving;

import dev.jbond.BackendException;
import dev.jbond.ModelVersion;
import dev.jbond.PolicyRole;
import dev.jbond.internal.Checks;
import dev.jbond.onnx.lora.LoraAdapter;
import dev.jbond.onnx.lora.LoraPolicy;
import dev.jbond.onnx.train.OrtPolicyLearner;
import dev.jbond.serving.lora.LoraTensors;
import dev.jbond.serving.triton.TritonClient;
import dev.jbond.serving.triton.TritonEndpointStatus;
import dev.jbond.serving.triton.TritonRetryPolicy;
import dev.jbond.spi.PolicyLearner;
import dev.jbond.spi.WeightPublisher;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Publishes a LoRA learner's adapters per request, as TensorRT-LLM's Triton backend takes them:
 * nothing is loaded on the servers; each published version of a role gets a fresh {@code
 * lora_task_id} (an id the backend holds never takes new weights), its adapter is sent, in the
 * {@link LoraTensors} layout and dtype, with one request to every endpoint, and once every endpoint
 * has answered, the {@link ServedAdapters} the samplers read name the new task, so their requests
 * carry the id only (a replica that has evicted the task, or one behind a balancer that never saw
 * it, answers "not found in cache" and the sampler sends the weights again).
 *
 * <p>"PEFT Cache is full" from an endpoint is retried with the client's retry policy; an endpoint
 * that cannot be reached is skipped (the samplers send the weights where it is missing). Task ids
 * are {@code (run tag << 32) + n}: the tag is drawn when the publisher is created, so a resumed run
 * never reuses the ids of the process before it. Thread-safe.
 */
public final class TritonLoraPublisher implements WeightPublisher {
  private static final System.Logger LOG = System.getLogger(TritonLoraPublisher.class.getName());

  private final TritonClient client;
  private final TritonSampler sampler;
  private final ServedAdapters adapters;
  private final LoraTensors.Dtype dtype;
  private final long tag;
  private final AtomicLong next = new AtomicLong();
  private final AtomicLong bytesSent = new AtomicLong();

  /**
   * Creates a publisher.
   *
   * @param client the client whose endpoints receive the adapters
   * @param sampler the sampler whose model names and request layout the adapters use
   * @param adapters the registry the samplers read
   * @param dtype the adapters' datatype: the engine's (its {@code --lora_plugin} dtype)
   */
  public TritonLoraPublisher(
      TritonClient client,
      TritonSampler sampler,
      ServedAdapters adapters,
      LoraTensors.Dtype dtype) {
    this.client = Objects.requireNonNull(client, "client");
    this.sampler = Objects.requireNonNull(sampler, "sampler");
    this.adapters = Objects.requireNonNull(adapters, "adapters");
    this.dtype = Objects.requireNonNull(dtype, "dtype");
    this.tag =
        (new SplittableRandom(System.nanoTime() ^ System.identityHashCode(this)).nextLong() >>> 33)
            << 32;
  }

  @Override
  public ModelVersion publish(PolicyLearner learner, PolicyRole role, long version) {
    return publish(learner, EnumSet.of(role), version).get(role);
  }

  /**
   * Publishes the roles' adapters; the roles' endpoints are sent their adapters concurrently.
   *
   * @param learner an {@link OrtPolicyLearner} of adapters
   * @param roles the roles
   * @param version the version the samples of these adapters carry
   * @return each role's served version
   * @throws IllegalArgumentException when the learner does not train adapters
   * @throws BackendException when an endpoint fails with anything but being unreachable, or its
   *     cache stays full
   */
  @Override
  public Map<PolicyRole, ModelVersion> publish(
      PolicyLearner learner, Set<PolicyRole> roles, long version) {
    Checks.checkArgument(
        learner instanceof OrtPolicyLearner ort && ort.lora().isPresent(),
        "Expected a learner of LoRA adapters to publish per request, found %s",
        learner.getClass().getSimpleName());
    OrtPolicyLearner ort = (OrtPolicyLearner) learner;
    LoraPolicy lora = ort.lora().orElseThrow();
    Map<PolicyRole, ServedAdapters.Served> ready = new LinkedHashMap<>();
    for (PolicyRole role : roles) {
      List<LoraAdapter> values = lora.adapters(ort.weights(role));
      LoraTensors tensors = LoraTensors.of(values, lora.spec().alpha(), dtype);
      long taskId = tag + next.incrementAndGet();
      ready.put(role, new ServedAdapters.Served(version, taskId, tensors));
    }
    sendEverywhere(ready);
    Map<PolicyRole, ModelVersion> out = new LinkedHashMap<>();
    ready.forEach(
        (role, served) -> {
          adapters.set(role, served);
          out.put(role, new ModelVersion(sampler.modelName(role), version));
        });
    return out;
  }

  /** Sends each adapter to every available endpoint and waits for every answer. */
  private void sendEverywhere(Map<PolicyRole, ServedAdapters.Served> ready) {
    TritonRetryPolicy retry = client.retryPolicy();
    SplittableRandom jitter = new SplittableRandom(tag ^ next.get());
    List<String> endpoints = new ArrayList<>();
    for (TritonEndpointStatus status : client.endpointStatuses()) {
      if (status.available()) {
        endpoints.add(status.name());
      }
    }
    record Send(PolicyRole role, ServedAdapters.Served served, String endpoint) {}
    List<Send> todo = new ArrayList<>();
    for (Map.Entry<PolicyRole, ServedAdapters.Served> e : ready.entrySet()) {
      for (String endpoint : endpoints) {
        todo.add(new Send(e.getKey(), e.getValue(), endpoint));
      }
    }
    for (int attempt = 1; !todo.isEmpty(); attempt++) {
      List<CompletableFuture<?>> futures = new ArrayList<>(todo.size());
      for (Send s : todo) {
        futures.add(sampler.sendAdapter(s.role(), s.served(), s.endpoint()));
        bytesSent.addAndGet(s.served().tensors().weights().raw().size());
      }
      List<Send> again = new ArrayList<>();
      BackendException full = null;
      for (int i = 0; i < todo.size(); i++) {
        Send s = todo.get(i);
        try {
          TritonFutures.await(
              futures.get(i),
              "publishing a LoRA adapter",
              "send the " + s.role().label() + " adapter to endpoint '" + s.endpoint() + "'");
        } catch (BackendException e) {
          if (e.getMessage() != null && e.getMessage().contains(TritonSampler.LORA_CACHE_FULL)) {
            if (attempt >= retry.maxAttempts()) {
              throw new BackendException(
                  BackendException.Code.RESOURCE_EXHAUSTED,
                  "Expected room for LoRA task "
                      + Long.toUnsignedString(s.served().taskId())
                      + " of the "
                      + s.role().label()
                      + " on endpoint '"
                      + s.endpoint()
                      + "', found its adapter cache full after "
                      + attempt
                      + " attempts (raise lora_cache_host_memory_bytes): "
                      + e.getMessage(),
                  e);
            }
            again.add(s);
            full = e;
          } else if (e.code() == BackendException.Code.UNAVAILABLE) {
            LOG.log(
                System.Logger.Level.WARNING,
                "Endpoint ''{0}'' did not take the {1} adapter (task {2}); its samples will carry"
                    + " the weights: {3}",
                s.endpoint(),
                s.role().label(),
                Long.toUnsignedString(s.served().taskId()),
                e.getMessage());
          } else {
            throw e;
          }
        }
      }
      if (!again.isEmpty()) {
        TritonFutures.sleep(retry.backoff(attempt, jitter), "publishing LoRA adapters");
        LOG.log(
            System.Logger.Level.INFO,
            "Sending {0} adapters again, the adapter cache was full: {1}",
            again.size(),
            full.getMessage());
      }
      todo = again;
    }
  }

  /**
   * Returns the bytes of {@code lora_weights} sent so far (the publish requests' weights; the
   * samplers' resends are not counted).
   *
   * @return the byte count
   */
  public long bytesSent() {
    return bytesSent.get();
  }

  /** Returns the dtype and the adapters served. */
  @Override
  public String toString() {
    return "TritonLoraPublisher " + dtype + " " + adapters;
  }
}
