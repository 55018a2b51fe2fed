package dev.jbond.orchestrator.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Run configurations: every section refuses an unknown key, a value of the wrong type and a value
 * out of range with a one-line message that names the key; defaults fill what is absent; what
 * {@link ConfigYaml#write} prints reads back unchanged.
 */
@MicronautTest(startApplication = false)
class RunConfigLoaderTest {
  @TempDir Path dir;
  @Inject RunConfigLoader loader;

  private static final String BASE =
      """
      policy:
        model: policy
      reward:
        model: reward.onnx
      prompts:
        file: prompts.jsonl
      """;

  @BeforeEach
  void files() throws IOException {
    Files.createDirectories(dir.resolve("policy"));
    Files.writeString(dir.resolve("policy/config.json"), "{}");
    Files.writeString(dir.resolve("reward.onnx"), "");
    Files.writeString(dir.resolve("prompts.jsonl"), "");
  }

  private RunConfig load(String yaml) {
    return loader.parse(yaml, "test.yaml", dir);
  }

  private String error(String yaml) {
    return assertThrows(ConfigException.class, () -> load(yaml)).getMessage();
  }

  static Stream<Arguments> badConfigurations() {
    return Stream.of(
        // policy
        Arguments.of(
            "policy: {model: policy, path: x}",
            "policy.path: unknown key, expected one of [model, lora]"),
        Arguments.of(
            "policy: {model: m, lora: {rank: -1}}",
            "policy.lora.rank: expected an integer >= 0 (0: train the whole model), found -1"),
        Arguments.of(
            "policy: {model: m, lora: {rank: 4, alpha: 0}}",
            "policy.lora.alpha: expected a value > 0, found 0.0"),
        Arguments.of(
            "policy: {model: m, lora: {modules: attn_q}}",
            "policy.lora.modules: expected a list, found \"attn_q\""),
        Arguments.of("policy: {model: [1, 2]}", "policy.model: expected a string, found a list"),
        Arguments.of(
            "policy: {model: ''}",
            "policy.model: expected the path of a model directory, found \"\""),
        // reference
        Arguments.of(
            "reference: {modle: x}", "reference.modle: unknown key, expected one of [model]"),
        Arguments.of(
            "reference: {model: {a: 1}}", "reference.model: expected a string, found a mapping"),
        Arguments.of("reference: 7", "reference: expected a mapping of keys, found 7"),
        // reward
        Arguments.of(
            "reward: {model: reward.onnx, batch: 3}",
            "reward.batch: unknown key, expected one of [model, input-ids, attention-mask, output,"
                + " max-batch-rows, threads, label, triton-model, tokenizer, template]"),
        Arguments.of(
            "reward: {model: reward.onnx, max-batch-rows: many}",
            "reward.max-batch-rows: expected an integer, found \"many\""),
        Arguments.of(
            "reward: {model: reward.onnx, max-batch-rows: 0}",
            "reward.max-batch-rows: expected an integer >= 1, found 0"),
        Arguments.of(
            "reward: {model: reward.onnx, label: -1}",
            "reward.label: expected an integer >= 0, found -1"),
        Arguments.of(
            "reward: {model: reward.onnx, triton-model: \"../x\"}",
            "reward.triton-model: expected a model name, found \"../x\""),
        // prompts
        Arguments.of(
            "prompts: {file: prompts.jsonl, shuffle: true}",
            "prompts.shuffle: unknown key, expected one of [file, batch-size, held-out]"),
        Arguments.of(
            "prompts: {file: prompts.jsonl, batch-size: 1.5}",
            "prompts.batch-size: expected an integer, found 1.5"),
        Arguments.of(
            "prompts: {file: prompts.jsonl, held-out: 0.95}",
            "prompts.held-out: expected a fraction in [0, 0.9], found 0.95"),
        // sampling
        Arguments.of(
            "sampling: {max-tokens: 3}",
            "sampling.max-tokens: unknown key, expected one of [max-new-tokens, temperature, top-k,"
                + " top-p]"),
        Arguments.of(
            "sampling: {max-new-tokens: true}",
            "sampling.max-new-tokens: expected an integer, found true"),
        Arguments.of(
            "sampling: {max-new-tokens: 0}",
            "sampling.max-new-tokens: expected an integer >= 1, found 0"),
        Arguments.of(
            "sampling: {temperature: 0.7}",
            "sampling.temperature: expected 1 (training samples must come from the policy's own"
                + " distribution, or the J-BOND gradient is off-policy; eval.temperature,"
                + " eval.top-k and eval.top-p may differ), found 0.7"),
        Arguments.of(
            "sampling: {top-k: 40}",
            "sampling.top-k: expected 0 (no truncation) (training samples must come from the"
                + " policy's own distribution, or the J-BOND gradient is off-policy;"
                + " eval.temperature, eval.top-k and eval.top-p may differ), found 40"),
        // objective
        Arguments.of(
            "objective: {name: jbond, alpha: 1}",
            "objective.alpha: unknown key, expected one of [name, beta, eta, gamma, penalty,"
                + " baseline, policy-samples, n, quantile-samples, refresh-every, kl-coefficient]"),
        Arguments.of(
            "objective: {name: ppo}",
            "objective.name: expected one of [jbond, bond, iterative-bond, reinforce], found"
                + " \"ppo\""),
        Arguments.of(
            "objective: {beta: 1.5}", "objective.beta: expected a value in [0, 1], found 1.5"),
        // optimizer
        Arguments.of(
            "optimizer: {lr: 0.1}",
            "optimizer.lr: unknown key, expected one of [learning-rate, warmup-steps, schedule,"
                + " min-learning-rate, weight-decay, beta1, beta2, epsilon, max-gradient-norm,"
                + " max-tokens-per-run, threads]"),
        Arguments.of(
            "optimizer: {learning-rate: fast}",
            "optimizer.learning-rate: expected a number, found \"fast\""),
        Arguments.of(
            "optimizer: {beta1: 1.0}", "optimizer.beta1: expected a value in [0, 1), found 1.0"),
        // serving
        Arguments.of(
            "serving: {endpoint: x}",
            "serving.endpoint: unknown key, expected one of [mode, transport, endpoints, deadline,"
                + " load-deadline, retry, health, models, threads, max-batch-rows, lora]"),
        Arguments.of(
            "serving: {lora: {dtype: fp8}}",
            "serving.lora.dtype: expected one of [fp16, bf16, fp32], found \"fp8\""),
        Arguments.of(
            "serving: {lora: {cache-bytes: 0}}",
            "serving.lora.cache-bytes: expected a byte count >= 1, found 0"),
        Arguments.of(
            "serving: {deadline: 30}",
            "serving.deadline: expected a duration such as 30s, 500ms or 2m, found 30"),
        Arguments.of(
            "serving: {retry: {max-attempts: 0}}",
            "serving.retry.max-attempts: expected an integer >= 1, found 0"),
        Arguments.of(
            "serving: {mode: triton, endpoints: [{target: 'a:1'}, {target: nohost}]}",
            "serving.endpoints[1].target: expected host:port, found \"nohost\""),
        Arguments.of(
            "serving: {mode: triton, endpoints: [{target: 'a:1', tls: {ca: x}}]}",
            "serving.endpoints[0].tls.ca: unknown key, expected one of [ca-file, cert-file,"
                + " key-file, authority]"),
        Arguments.of(
            "serving: {mode: triton}",
            "serving.endpoints: expected at least one endpoint with serving.mode triton, found"
                + " none"),
        Arguments.of(
            "serving: {deadline: 0s}", "serving.deadline: expected a duration > 0, found 0s"),
        // eval
        Arguments.of(
            "eval: {k: 3}",
            "eval.k: unknown key, expected one of [samples-per-prompt, reference-samples,"
                + " max-prompts, temperature, top-k, top-p]"),
        Arguments.of(
            "eval: {samples-per-prompt: []}",
            "eval.samples-per-prompt: expected an integer, found a list"),
        Arguments.of("eval: {top-p: 0}", "eval.top-p: expected a value in (0, 1], found 0.0"),
        // run
        Arguments.of(
            "run: {step: 3}",
            "run.step: unknown key, expected one of [steps, seed, staleness, checkpoint-every,"
                + " eval-every, keep-checkpoints, step-retries, track-reference-kl, max-kl,"
                + " importance-correction, importance-bound, reuse-forward, sampler-log-prob-tolerance]"),
        Arguments.of("run: {steps: ten}", "run.steps: expected an integer, found \"ten\""),
        Arguments.of("run: {steps: 0}", "run.steps: expected an integer >= 1, found 0"),
        Arguments.of("run: {staleness: 2}", "run.staleness: expected 0 or 1, found 2"),
        Arguments.of(
            "run: {checkpoint-every: null}",
            "run.checkpoint-every: expected an integer, found null"),
        // top level
        Arguments.of(
            "runs: {steps: 3}",
            "runs: unknown key, expected one of [policy, reference, reward, prompts, sampling,"
                + " objective, optimizer, serving, eval, run]"));
  }

  @ParameterizedTest
  @MethodSource("badConfigurations")
  void parse_badValue_failsNamingTheKey(String section, String expected) {
    String top = section.substring(0, section.indexOf(':'));
    String yaml = BASE.replaceAll("(?m)^" + top + ":\\n  .*\\n", "") + section + "\n";

    assertEquals(expected, error(yaml));
  }

  @Test
  void parse_missingFiles_failNamingTheKey() {
    assertEquals(
        "policy.model: expected a jbond model directory, found no directory "
            + dir.resolve("nowhere"),
        error(BASE.replace("model: policy", "model: nowhere")));
    assertEquals(
        "prompts.file: expected a JSON-lines prompts file, found no file "
            + dir.resolve("none.jsonl"),
        error(BASE.replace("file: prompts.jsonl", "file: none.jsonl")));
    assertEquals(
        "reference.model: expected a jbond model directory, found no directory "
            + dir.resolve("ref"),
        error(BASE + "reference: {model: ref}\n"));
    assertEquals(
        "reward.model: expected an ONNX reward model, found no file or directory "
            + dir.resolve("r.onnx"),
        error(BASE.replace("model: reward.onnx", "model: r.onnx")));
  }

  @Test
  void parse_minimalFile_takesEveryDefaultAndResolvesPaths() {
    RunConfig config = load(BASE);
    RunConfig defaults = RunConfig.defaults();

    assertEquals(dir.resolve("policy").toString(), config.policy().model());
    assertEquals(dir.resolve("prompts.jsonl").toString(), config.prompts().file());
    assertEquals(defaults.run(), config.run());
    assertEquals(defaults.objective(), config.objective());
    assertEquals(Duration.ofSeconds(60), config.serving().deadline());
  }

  @Test
  void write_thenParse_givesTheSameConfiguration() {
    RunConfig config =
        load(
            BASE
                + """
                objective: {name: reinforce, kl-coefficient: 0.05, policy-samples: 2}
                serving:
                  mode: triton
                  transport: stream
                  deadline: 1500ms
                  endpoints:
                    - target: localhost:8001
                    - {target: 'other:8001', name: b, tls: {authority: example.org}}
                run: {steps: 12, max-kl: 30}
                """);

    String yaml = ConfigYaml.write(config);

    assertEquals(config, loader.parse(yaml, "written.yaml", dir));
    assertTrue(yaml.contains("checkpoint-every: 100"), yaml);
    assertTrue(yaml.contains("name: reinforce"), yaml);
    assertTrue(yaml.contains("deadline: 1500ms"), yaml);
  }

  @Test
  void parse_json_isAccepted() {
    RunConfig config =
        load(
            "{\"policy\": {\"model\": \"policy\"}, \"reward\": {\"model\": \"reward.onnx\"},\n"
                + "\t\"prompts\": {\"file\": \"prompts.jsonl\"}, \"run\": {\"steps\": 7}}");

    assertEquals(7, config.run().steps());
  }

  @Test
  void parse_syntaxErrorAndDuplicateKey_nameTheLine() {
    assertEquals(
        "Expected YAML or JSON in run configuration test.yaml, found a syntax error at line 2,"
            + " column 11: mapping values are not allowed here",
        error("run:\n  steps: a: b\n"));
    assertTrue(
        error("run: {steps: 1}\nrun: {steps: 2}\n").contains("found duplicate key run"),
        error("run: {steps: 1}\nrun: {steps: 2}\n"));
  }

  @Test
  void load_withOverrides_appliesThemInOrderAndChecksTheirKeys() throws Exception {
    Path file = dir.resolve("run.yaml");
    Files.writeString(file, BASE + "run: {steps: 5}\n");

    RunConfig config =
        loader.load(
            file,
            dir,
            java.util.List.of(
                "objective.name=reinforce",
                "objective.kl-coefficient=0.3",
                "run.steps=9",
                "serving.retry.max-attempts=2"));

    assertEquals(RunConfig.ObjectiveKind.REINFORCE, config.objective().name());
    assertEquals(0.3, config.objective().klCoefficient());
    assertEquals(9, config.run().steps());
    assertEquals(2, config.serving().retry().maxAttempts());
    assertEquals(
        "run.stepz: unknown key, expected one of [steps, seed, staleness, checkpoint-every,"
            + " eval-every, keep-checkpoints, step-retries, track-reference-kl, max-kl,"
            + " importance-correction, importance-bound, reuse-forward, sampler-log-prob-tolerance]",
        assertThrows(
                ConfigException.class,
                () -> loader.load(file, dir, java.util.List.of("run.stepz=3")))
            .getMessage());
    assertEquals(
        "Expected an override key=value (for example run.steps=100), found 'run.steps'",
        assertThrows(
                ConfigException.class, () -> loader.load(file, dir, java.util.List.of("run.steps")))
            .getMessage());
  }

  @Test
  void load_missingFile_saysSo() {
    Path missing = dir.resolve("missing.yaml");

    ConfigException e = assertThrows(ConfigException.class, () -> loader.load(missing, dir));

    assertEquals("Cannot read run configuration " + missing + ": no such file", e.getMessage());
  }
}
