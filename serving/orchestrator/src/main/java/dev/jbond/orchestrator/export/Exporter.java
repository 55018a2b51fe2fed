package dev.jbond.orchestrator.export;

import dev.jbond.PolicyRole;
import dev.jbond.models.policy.PolicyFiles;
import dev.jbond.models.triton.TritonModelConfig;
import dev.jbond.models.triton.TritonRepository;
import dev.jbond.onnx.lora.LoraAdapter;
import dev.jbond.onnx.lora.LoraPolicy;
import dev.jbond.onnx.lora.LoraTarget;
import dev.jbond.onnx.train.OrtPolicyLearner;
import dev.jbond.onnx.train.PolicyModel;
import dev.jbond.orchestrator.config.RunConfig;
import dev.jbond.orchestrator.run.RunDirectory;
import dev.jbond.serving.TensorProfile;
import dev.jbond.serving.TrtLlmModelConfig;
import dev.jbond.serving.lora.LoraExports;
import dev.jbond.serving.lora.LoraTensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Exports a learner's weights for serving: per role, the full-sequence ONNX model ({@code
 * <role>/model.onnx}, as {@link OrtPolicyLearner#export} writes it, with provenance) and a Triton
 * model repository ({@code repository/}) holding two models per role, each with a {@code
 * config.pbtxt} that lists its inputs and outputs:
 *
 * <ul>
 *   <li>{@code <name>}: the generation model (backend {@code jbond-generate}: jbond's embedded
 *       server, {@code bond serve}) with the TensorRT-LLM token-id profile, over the policy's
 *       served files ({@link PolicyFiles#writeServed}: a jbond model directory with both graphs and
 *       one weights file, or an export's sampling graph with the trained weights mapped in);
 *   <li>{@code <name>-logits}: the full-sequence graph for Triton's ONNX Runtime backend ({@code
 *       input_ids} [+ {@code attention_mask}, {@code position_ids}] to {@code logits}).
 * </ul>
 *
 * <p>A learner of LoRA adapters exports the base model with the adapters merged in ({@code
 * model.onnx} and the repository) and, in {@code <role>/lora/}, the adapter itself: in Hugging Face
 * PEFT's layout ({@code adapter_model.safetensors}, {@code adapter_config.json}; not when {@code
 * attn_q/k/v} adapt thirds of a fused projection, which PEFT cannot express) and as TensorRT-LLM's
 * prefetch arrays ({@code trtllm/1/model.lora_weights.npy}, {@code model.lora_config.npy}, for its
 * {@code lora_prefetch_dir}; in the run's {@code serving.lora.dtype}, not for BF16, which {@code
 * .npy} cannot hold).
 *
 * <p>The export directory is written beside its final place and moved there when complete.
 */
public final class Exporter {
  private Exporter() {}

  /**
   * Exports the policy and the anchor of a finished (or stopped) run.
   *
   * @param learner the learner holding the weights
   * @param config the run's configuration (the policy's model directory, the served model names)
   * @param target the export directory, replaced when it exists
   * @param step the learner's step, for messages
   * @return {@code target}
   * @throws IOException when writing fails
   */
  public static Path exportRun(OrtPolicyLearner learner, RunConfig config, Path target, long step)
      throws IOException {
    PolicyFiles source = PolicyFiles.open(Path.of(config.policy().model()));
    String policy = config.serving().models().policy();
    String anchor = config.serving().models().anchor();
    // one base model may serve both roles' adapters; their exported weights differ
    Map<PolicyRole, String> names =
        Map.of(
            PolicyRole.POLICY,
            policy,
            PolicyRole.ANCHOR,
            anchor.equals(policy) ? anchor + "-anchor" : anchor);
    return write(
        target,
        temp -> {
          for (PolicyRole role : List.of(PolicyRole.POLICY, PolicyRole.ANCHOR)) {
            exportRole(learner, role, source, names.get(role), temp, loraDtype(config));
          }
        });
  }

  /**
   * Exports one role into {@code target} (replaced when it exists): {@code <role>/model.onnx} and
   * {@code repository/<name>} and {@code repository/<name>-logits}.
   *
   * @param learner the learner holding the weights
   * @param role which weights
   * @param source the model directory the learner was opened from (architecture, special tokens)
   * @param name the model name in the repository
   * @param target the export directory
   * @return {@code target}
   * @throws IOException when writing fails
   */
  public static Path exportOne(
      OrtPolicyLearner learner, PolicyRole role, PolicyFiles source, String name, Path target)
      throws IOException {
    return exportOne(learner, role, source, name, target, LoraTensors.Dtype.FP16);
  }

  /**
   * Exports one role as {@link #exportOne(OrtPolicyLearner, PolicyRole, PolicyFiles, String, Path)}
   * does, a LoRA adapter's TensorRT-LLM arrays in {@code loraDtype}.
   *
   * @param learner the learner holding the weights
   * @param role which weights
   * @param source the model directory the learner was opened from (architecture, special tokens)
   * @param name the model name in the repository
   * @param target the export directory
   * @param loraDtype the datatype of TensorRT-LLM's adapter arrays (the engine's)
   * @return {@code target}
   * @throws IOException when writing fails
   */
  public static Path exportOne(
      OrtPolicyLearner learner,
      PolicyRole role,
      PolicyFiles source,
      String name,
      Path target,
      LoraTensors.Dtype loraDtype)
      throws IOException {
    return write(target, temp -> exportRole(learner, role, source, name, temp, loraDtype));
  }

  /**
   * Returns the datatype of a run's adapters on the wire ({@code serving.lora.dtype}).
   *
   * @param config the run's configuration
   * @return the datatype
   */
  public static LoraTensors.Dtype loraDtype(RunConfig config) {
    return LoraTensors.Dtype.valueOf(config.serving().lora().dtype().name());
  }

  /** Writes a role's adapter in PEFT's layout and as TensorRT-LLM's prefetch arrays. */
  private static void exportAdapter(
      OrtPolicyLearner learner,
      LoraPolicy lora,
      PolicyRole role,
      PolicyFiles source,
      Path out,
      LoraTensors.Dtype dtype)
      throws IOException {
    List<LoraAdapter> adapters = lora.adapters(learner.weights(role));
    List<String> paths = lora.targets().stream().map(LoraTarget::path).toList();
    if (paths.stream().distinct().count() == paths.size()) {
      // GPT-2-style weights are stored [in, out] like PyTorch's Conv1D: PEFT's fan_in_fan_out
      boolean fanInFanOut = paths.stream().noneMatch(p -> p.contains("layers."));
      LoraExports.writePeft(
          out,
          adapters,
          paths,
          lora.spec().alpha(),
          fanInFanOut,
          source.root().toAbsolutePath().toString());
    }
    if (dtype != LoraTensors.Dtype.BF16) {
      LoraExports.writeTrtLlm(
          LoraExports.trtLlmTaskDirectory(out.resolve("trtllm"), 1),
          LoraTensors.of(adapters, lora.spec().alpha(), dtype));
    }
  }

  private static void exportRole(
      OrtPolicyLearner learner,
      PolicyRole role,
      PolicyFiles source,
      String name,
      Path out,
      LoraTensors.Dtype loraDtype)
      throws IOException {
    Path onnx = out.resolve(role.label()).resolve(PolicyModel.MODEL_FILE);
    learner.export(role, onnx);
    if (learner.lora().isPresent()) {
      exportAdapter(
          learner,
          learner.lora().get(),
          role,
          source,
          out.resolve(role.label()).resolve("lora"),
          loraDtype);
    }
    Path repository = out.resolve("repository");
    TrtLlmModelConfig.write(
        repository,
        TrtLlmModelConfig.config(name, 64, false, TensorProfile.trtLlm()),
        1,
        source,
        learner.servedWeights(role));
    PolicyModel model = learner.lora().map(LoraPolicy::base).orElse(learner.model());
    List<TritonModelConfig.TensorSpec> inputs = new ArrayList<>();
    inputs.add(TritonModelConfig.TensorSpec.of(PolicyModel.INPUT_IDS, "TYPE_INT64", -1, -1));
    if (model.hasAttentionMask()) {
      inputs.add(TritonModelConfig.TensorSpec.of(PolicyModel.ATTENTION_MASK, "TYPE_INT64", -1, -1));
    }
    if (model.hasPositionIds()) {
      inputs.add(TritonModelConfig.TensorSpec.of(PolicyModel.POSITION_IDS, "TYPE_INT64", -1, -1));
    }
    TritonModelConfig logits =
        new TritonModelConfig(
            name + "-logits",
            TritonModelConfig.ONNX_BACKEND,
            0,
            inputs,
            List.of(
                TritonModelConfig.TensorSpec.of(
                    PolicyModel.LOGITS, "TYPE_FP32", -1, -1, model.vocabularySize())),
            false,
            Map.of("jbond.role", role.label(), "jbond.step", Long.toString(learner.stepCount())));
    TritonRepository.writeOnnxModel(repository, logits.name(), 1, onnx, logits);
  }

  /** What fills the temporary export directory. */
  @FunctionalInterface
  private interface Filler {
    void fill(Path temp) throws IOException;
  }

  private static Path write(Path target, Filler filler) throws IOException {
    Path parent = target.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    Path temp = Files.createTempDirectory(parent, "." + target.getFileName() + ".tmp-");
    try {
      filler.fill(temp);
      if (Files.exists(target)) {
        Path old = Files.createTempDirectory(parent, "." + target.getFileName() + ".old-");
        Files.move(target, old.resolve("x"));
        RunDirectory.deleteTree(old);
      }
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
      return target;
    } finally {
      if (Files.exists(temp)) {
        RunDirectory.deleteTree(temp);
      }
    }
  }
}
