package dev.jbond.tests;

import dev.jbond.orchestrator.cli.BondCommand;
import dev.jbond.orchestrator.cli.DemoCommand;
import dev.jbond.orchestrator.config.ConfigYaml;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Test helper: {@code bond run} on the demo configuration with a test's prompts and changes, in
 * process.
 */
final class DemoRunConfig {
  private DemoRunConfig() {}

  /** What {@code bond} returned and printed. */
  record Result(int code, String out, String err) {}

  /**
   * Writes {@code prompts} as {@code dir/prompts.jsonl} and the demo configuration of {@code steps}
   * steps, pointed at them and changed by {@code edit}, as {@code dir/run.yaml}.
   *
   * @return the arguments of {@code bond run} with {@code --out dir/run}
   */
  static String[] write(Path dir, int steps, String prompts, Consumer<Map<String, Object>> edit)
      throws IOException {
    Path file = Files.writeString(dir.resolve("prompts.jsonl"), prompts, StandardCharsets.UTF_8);
    Map<String, Object> tree =
        ConfigYaml.tree(DemoCommand.config(RepositoryRoot.get().resolve("models/demo"), steps, 1));
    section(tree, "prompts").put("file", file.toString());
    edit.accept(tree);
    Path config = dir.resolve("run.yaml");
    Files.writeString(config, new org.yaml.snakeyaml.Yaml().dump(tree));
    return new String[] {
      "run", "--config", config.toString(), "--out", dir.resolve("run").toString()
    };
  }

  /** The section {@code name} of a configuration tree, to change in place. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> section(Map<String, Object> tree, String name) {
    return (Map<String, Object>) tree.get(name);
  }

  /** Runs {@code bond args...} in process. */
  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = BondCommand.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Result(code, out.toString(), err.toString());
  }
}
