package dev.jbond.orchestrator.config;

import jakarta.inject.Singleton;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.Path.Node;
import jakarta.validation.Validator;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * Reads run configurations: parses a YAML (or JSON) file, binds it strictly to {@link RunConfig}
 * over its defaults ({@link ConfigBinder}), validates the records' Jakarta constraints and the
 * rules that span keys, resolves relative paths against a base directory and checks that the files
 * they name exist. Every problem is a {@link ConfigException} whose one-line message names the key.
 */
@Singleton
public final class RunConfigLoader {
  private final Validator validator;

  /**
   * Creates a loader.
   *
   * @param validator the Jakarta validator (Micronaut's)
   */
  public RunConfigLoader(Validator validator) {
    this.validator = Objects.requireNonNull(validator, "validator");
  }

  /**
   * Reads, binds, validates and resolves a configuration file.
   *
   * @param file the YAML or JSON file
   * @param baseDirectory what relative paths in the file are resolved against
   * @return the configuration, paths absolute
   * @throws ConfigException when the file cannot be read or the configuration is not valid
   */
  public RunConfig load(Path file, Path baseDirectory) {
    return load(file, baseDirectory, List.of());
  }

  /**
   * Reads a configuration file with overrides, as {@code bond run --set key=value} gives them: each
   * {@code key} is a dotted path ({@code objective.kl-coefficient}) and its value is read as YAML
   * ({@code 0.1}, {@code reinforce}, {@code [a, b]}); overrides apply in order, after the file.
   *
   * @param file the YAML or JSON file
   * @param baseDirectory what relative paths in the file are resolved against
   * @param overrides {@code key=value} strings
   * @return the configuration, paths absolute
   * @throws ConfigException when the file cannot be read, an override is malformed or the result is
   *     not valid
   */
  @SuppressWarnings("unchecked")
  public RunConfig load(Path file, Path baseDirectory, List<String> overrides) {
    String text = read(file);
    Object tree = parseTree(text, file.toString());
    if (!overrides.isEmpty()) {
      Map<String, Object> root;
      if (tree == null) {
        root = new LinkedHashMap<>();
      } else if (tree instanceof Map<?, ?> m) {
        root = deepCopy((Map<String, Object>) m);
      } else {
        throw new ConfigException(
            "", "Expected a mapping of keys in " + file + ", found " + ConfigBinder.describe(tree));
      }
      for (String override : overrides) {
        apply(root, override);
      }
      tree = root;
    }
    return bind(tree, baseDirectory);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> deepCopy(Map<String, Object> map) {
    Map<String, Object> copy = new LinkedHashMap<>();
    map.forEach(
        (k, v) -> copy.put(k, v instanceof Map<?, ?> m ? deepCopy((Map<String, Object>) m) : v));
    return copy;
  }

  @SuppressWarnings("unchecked")
  private static void apply(Map<String, Object> root, String override) {
    int eq = override.indexOf('=');
    if (eq <= 0) {
      throw new ConfigException(
          "",
          "Expected an override key=value (for example run.steps=100), found '" + override + "'");
    }
    String key = override.substring(0, eq).strip();
    Object value;
    try {
      value = ConfigYaml.parse(override.substring(eq + 1));
    } catch (YAMLException e) {
      throw new ConfigException(
          key,
          "expected a YAML value in the override, found '" + override.substring(eq + 1) + "'",
          e);
    }
    String[] parts = key.split("\\.");
    Map<String, Object> node = root;
    for (int i = 0; i < parts.length - 1; i++) {
      Object child = node.get(parts[i]);
      if (child == null) {
        child = new LinkedHashMap<String, Object>();
        node.put(parts[i], child);
      }
      if (!(child instanceof Map<?, ?>)) {
        throw new ConfigException(
            String.join(".", java.util.Arrays.copyOf(parts, i + 1)),
            "expected a mapping of keys to set "
                + key
                + " in, found "
                + ConfigBinder.describe(child));
      }
      node = (Map<String, Object>) child;
    }
    node.put(parts[parts.length - 1], value);
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ConfigException(
          "", "Cannot read run configuration " + file.toAbsolutePath() + ": no such file", e);
    } catch (MalformedInputException e) {
      throw new ConfigException(
          "", "Expected a UTF-8 YAML or JSON run configuration, found other bytes in " + file, e);
    } catch (IOException e) {
      throw new ConfigException(
          "", "Cannot read run configuration " + file.toAbsolutePath() + ": " + e.getMessage(), e);
    }
  }

  /**
   * Parses, binds, validates and resolves a configuration given as text.
   *
   * @param text the YAML or JSON document
   * @param source what the text is, for messages (a file name)
   * @param baseDirectory what relative paths are resolved against
   * @return the configuration, paths absolute
   * @throws ConfigException when the configuration is not valid
   */
  public RunConfig parse(String text, String source, Path baseDirectory) {
    return bind(parseTree(text, source), baseDirectory);
  }

  /**
   * Parses, binds, validates and resolves a configuration given as text, letting {@code guard}
   * refuse it before any file it names is looked at (as {@code bond server} refuses paths outside
   * its allowed roots, without telling whether a file exists there).
   *
   * @param text the YAML or JSON document
   * @param source what the text is, for messages
   * @param baseDirectory what relative paths are resolved against
   * @param guard sees the resolved configuration first; throws {@link ConfigException} to refuse it
   * @return the configuration, paths absolute
   * @throws ConfigException when the configuration is not valid or the guard refuses it
   */
  public RunConfig parse(
      String text, String source, Path baseDirectory, Consumer<RunConfig> guard) {
    RunConfig bound =
        ConfigBinder.bind(RunConfig.class, parseTree(text, source), RunConfig.defaults(), "");
    validate(bound);
    RunConfig resolved = resolve(bound, baseDirectory.toAbsolutePath().normalize());
    guard.accept(resolved);
    checkFiles(resolved);
    return resolved;
  }

  /**
   * Returns every path a configuration names, by key path ({@code policy.model}, {@code
   * serving.endpoints[0].tls.ca-file}, ...), unset ones left out.
   *
   * @param config the configuration
   * @return key path to path, in key order
   */
  public static Map<String, String> paths(RunConfig config) {
    Map<String, String> paths = new LinkedHashMap<>();
    paths.put("policy.model", config.policy().model());
    paths.put("reference.model", config.reference().model());
    paths.put("reward.model", config.reward().model());
    paths.put("reward.tokenizer", config.reward().tokenizer());
    paths.put("prompts.file", config.prompts().file());
    for (int i = 0; i < config.serving().endpoints().size(); i++) {
      RunConfig.Tls tls = config.serving().endpoints().get(i).tls();
      if (tls != null) {
        String key = "serving.endpoints[" + i + "].tls.";
        paths.put(key + "ca-file", tls.caFile());
        paths.put(key + "cert-file", tls.certFile());
        paths.put(key + "key-file", tls.keyFile());
      }
    }
    paths.values().removeIf(Objects::isNull);
    return paths;
  }

  private static Object parseTree(String text, String source) {
    try {
      return ConfigYaml.parse(text);
    } catch (MarkedYAMLException e) {
      String where =
          e.getProblemMark() == null
              ? ""
              : " at line "
                  + (e.getProblemMark().getLine() + 1)
                  + ", column "
                  + (e.getProblemMark().getColumn() + 1);
      throw new ConfigException(
          "",
          "Expected YAML or JSON in run configuration "
              + source
              + ", found a syntax error"
              + where
              + ": "
              + String.valueOf(e.getProblem()).strip(),
          e);
    } catch (YAMLException e) {
      throw new ConfigException(
          "",
          "Expected YAML or JSON in run configuration "
              + source
              + ", found: "
              + oneLine(e.getMessage()),
          e);
    }
  }

  /**
   * Binds a parsed tree, validates it and resolves its paths.
   *
   * @param tree the parsed document (a map), or null for all defaults
   * @param baseDirectory what relative paths are resolved against
   * @return the configuration, paths absolute
   * @throws ConfigException when the configuration is not valid
   */
  public RunConfig bind(Object tree, Path baseDirectory) {
    return check(ConfigBinder.bind(RunConfig.class, tree, RunConfig.defaults(), ""), baseDirectory);
  }

  /**
   * Validates a configuration built in code (as {@code bond demo} builds its own) and resolves its
   * paths, as {@link #bind} does for a parsed file.
   *
   * @param config the configuration
   * @param baseDirectory what relative paths are resolved against
   * @return the configuration, paths absolute
   * @throws ConfigException when the configuration is not valid
   */
  public RunConfig check(RunConfig config, Path baseDirectory) {
    validate(config);
    RunConfig resolved = resolve(config, baseDirectory.toAbsolutePath().normalize());
    checkFiles(resolved);
    return resolved;
  }

  /**
   * Checks the Jakarta constraints and the rules that span keys.
   *
   * @param config the configuration
   * @throws ConfigException naming the first key (in path order) that breaks a rule
   */
  public void validate(RunConfig config) {
    Set<ConstraintViolation<RunConfig>> violations = validator.validate(config);
    if (!violations.isEmpty()) {
      List<ConstraintViolation<RunConfig>> sorted = new ArrayList<>(violations);
      sorted.sort(Comparator.comparing(v -> keyPath(v.getPropertyPath())));
      ConstraintViolation<RunConfig> first = sorted.get(0);
      String key = keyPath(first.getPropertyPath());
      throw new ConfigException(
          key, first.getMessage() + ", found " + ConfigBinder.describe(first.getInvalidValue()));
    }
    RunConfig.Sampling s = config.sampling();
    String offPolicy =
        " (training samples must come from the policy's own distribution, or the J-BOND gradient"
            + " is off-policy; eval.temperature, eval.top-k and eval.top-p may differ)";
    if (s.temperature() != 1.0) {
      throw new ConfigException(
          "sampling.temperature", "expected 1" + offPolicy + ", found " + s.temperature());
    }
    if (s.topK() != 0) {
      throw new ConfigException(
          "sampling.top-k", "expected 0 (no truncation)" + offPolicy + ", found " + s.topK());
    }
    if (s.topP() != 1.0) {
      throw new ConfigException(
          "sampling.top-p", "expected 1 (no truncation)" + offPolicy + ", found " + s.topP());
    }
    RunConfig.Serving serving = config.serving();
    positive(serving.deadline(), "serving.deadline");
    positive(serving.loadDeadline(), "serving.load-deadline");
    positive(serving.retry().initialBackoff(), "serving.retry.initial-backoff");
    positive(serving.retry().maxBackoff(), "serving.retry.max-backoff");
    if (serving.retry().maxBackoff().compareTo(serving.retry().initialBackoff()) < 0) {
      throw new ConfigException(
          "serving.retry.max-backoff",
          "expected a duration >= serving.retry.initial-backoff ("
              + Durations.format(serving.retry().initialBackoff())
              + "), found "
              + Durations.format(serving.retry().maxBackoff()));
    }
    positive(serving.health().interval(), "serving.health.interval");
    positive(serving.health().timeout(), "serving.health.timeout");
    if (serving.mode() == RunConfig.ServingMode.TRITON && serving.endpoints().isEmpty()) {
      throw new ConfigException(
          "serving.endpoints",
          "expected at least one endpoint with serving.mode triton, found none");
    }
    Set<String> names = new HashSet<>();
    for (int i = 0; i < serving.endpoints().size(); i++) {
      RunConfig.Endpoint e = serving.endpoints().get(i);
      String name = e.name() == null ? e.target() : e.name();
      if (!names.add(name)) {
        throw new ConfigException(
            "serving.endpoints[" + i + "]",
            "expected a unique endpoint name, found '" + name + "'");
      }
      RunConfig.Tls tls = e.tls();
      if (tls != null && (tls.certFile() == null) != (tls.keyFile() == null)) {
        throw new ConfigException(
            "serving.endpoints[" + i + "].tls",
            "expected both cert-file and key-file for mutual TLS, or neither, found only "
                + (tls.certFile() == null ? "key-file" : "cert-file"));
      }
    }
    RunConfig.ModelNames m = serving.models();
    boolean adapters = config.adaptersPerRequest();
    // adapters per request: one base model may serve every role (a role is a task id, or none)
    if (!adapters && (m.policy().equals(m.anchor()) || m.reference().equals(m.anchor()))) {
      throw new ConfigException(
          "serving.models.anchor",
          "expected a model name other than the policy's and the reference's, found '"
              + m.anchor()
              + "'");
    }
    if (!adapters && m.policy().equals(m.reference())) {
      throw new ConfigException(
          "serving.models.reference",
          "expected a model name other than the policy's, found '" + m.reference() + "'");
    }
    if (config.run().evalEvery() > 0 && config.prompts().heldOut() == 0) {
      throw new ConfigException(
          "prompts.held-out",
          "expected a fraction > 0 when run.eval-every is "
              + config.run().evalEvery()
              + " (evaluation needs held-out prompts; set run.eval-every: 0 to skip it), found 0");
    }
  }

  private static void positive(Duration d, String key) {
    if (d.isNegative() || d.isZero()) {
      throw new ConfigException(key, "expected a duration > 0, found " + Durations.format(d));
    }
  }

  private static RunConfig resolve(RunConfig c, Path base) {
    RunConfig.Serving s = c.serving();
    List<RunConfig.Endpoint> endpoints = new ArrayList<>();
    for (RunConfig.Endpoint e : s.endpoints()) {
      RunConfig.Tls tls = e.tls();
      if (tls != null) {
        tls =
            new RunConfig.Tls(
                path(base, tls.caFile()),
                path(base, tls.certFile()),
                path(base, tls.keyFile()),
                tls.authority());
      }
      endpoints.add(new RunConfig.Endpoint(e.target(), e.name(), tls));
    }
    RunConfig.Reward r = c.reward();
    return new RunConfig(
        new RunConfig.Policy(path(base, c.policy().model()), c.policy().lora()),
        new RunConfig.Reference(path(base, c.reference().model())),
        new RunConfig.Reward(
            path(base, r.model()),
            r.inputIds(),
            r.attentionMask(),
            r.output(),
            r.maxBatchRows(),
            r.threads(),
            r.label(),
            r.tritonModel(),
            path(base, r.tokenizer()),
            r.template()),
        new RunConfig.Prompts(
            path(base, c.prompts().file()), c.prompts().batchSize(), c.prompts().heldOut()),
        c.sampling(),
        c.objective(),
        c.optimizer(),
        new RunConfig.Serving(
            s.mode(),
            s.transport(),
            endpoints,
            s.deadline(),
            s.loadDeadline(),
            s.retry(),
            s.health(),
            s.models(),
            s.threads(),
            s.maxBatchRows(),
            s.lora()),
        c.eval(),
        c.run());
  }

  private static String path(Path base, String path) {
    return path == null ? null : base.resolve(path).normalize().toString();
  }

  private static void checkFiles(RunConfig c) {
    Path policy = Path.of(c.policy().model());
    modelDirectory(policy, "policy.model");
    if (c.reference().model() != null) {
      modelDirectory(Path.of(c.reference().model()), "reference.model");
    }
    Path reward = Path.of(c.reward().model());
    if (!Files.exists(reward)) {
      throw new ConfigException(
          "reward.model", "expected an ONNX reward model, found no file or directory " + reward);
    }
    Path prompts = Path.of(c.prompts().file());
    if (!Files.isRegularFile(prompts)) {
      throw new ConfigException(
          "prompts.file", "expected a JSON-lines prompts file, found no file " + prompts);
    }
    for (int i = 0; i < c.serving().endpoints().size(); i++) {
      RunConfig.Tls tls = c.serving().endpoints().get(i).tls();
      if (tls == null) {
        continue;
      }
      String key = "serving.endpoints[" + i + "].tls.";
      pem(tls.caFile(), key + "ca-file");
      pem(tls.certFile(), key + "cert-file");
      pem(tls.keyFile(), key + "key-file");
    }
  }

  private static void modelDirectory(Path dir, String key) {
    if (!Files.isDirectory(dir)) {
      throw new ConfigException(key, "expected a jbond model directory, found no directory " + dir);
    }
    if (!Files.isRegularFile(dir.resolve("config.json"))) {
      throw new ConfigException(
          key,
          "expected a jbond model directory (config.json, model.onnx, decode.onnx, weights.bin),"
              + " found no config.json in "
              + dir);
    }
  }

  private static void pem(String file, String key) {
    if (file != null && !Files.isRegularFile(Path.of(file))) {
      throw new ConfigException(key, "expected a PEM file, found no file " + file);
    }
  }

  /**
   * The dotted kebab-case key path of a violation's property path: {@code
   * serving.endpoints[0].target}. A node inside a list carries its index (Jakarta's "in iterable").
   */
  static String keyPath(jakarta.validation.Path path) {
    StringBuilder b = new StringBuilder();
    for (Node node : path) {
      if (node.isInIterable() && node.getIndex() != null) {
        b.append('[').append(node.getIndex()).append(']');
      }
      String name = node.getName();
      if (name == null || name.isEmpty() || name.startsWith("<")) {
        continue; // the root bean, <list element> and similar
      }
      if (b.length() > 0) {
        b.append('.');
      }
      b.append(ConfigBinder.kebab(name));
    }
    return b.toString();
  }

  private static String oneLine(String message) {
    return message == null ? "" : message.replace('\n', ' ').replace('\r', ' ').strip();
  }
}
