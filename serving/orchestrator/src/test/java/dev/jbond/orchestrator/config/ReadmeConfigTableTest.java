package dev.jbond.orchestrator.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** README documents every run configuration key, in its table of keys and defaults. */
class ReadmeConfigTableTest {
  @Test
  void readme_documentsEveryKey() throws Exception {
    Path readme = Path.of("..", "..", "README.md");
    List<String> rows = new ArrayList<>();
    for (String line : Files.readAllLines(readme, StandardCharsets.UTF_8)) {
      if (line.startsWith("| `")) {
        rows.add(line.substring(0, line.indexOf('|', 2)));
      }
    }
    List<String> missing = new ArrayList<>();
    for (String key : keys(ConfigYaml.tree(RunConfig.defaults()), "")) {
      int dot = key.lastIndexOf('.');
      String section = key.substring(0, dot);
      String leaf = key.substring(dot + 1);
      boolean documented =
          rows.stream()
              .anyMatch(
                  r ->
                      r.contains("`" + key + "`")
                          || (r.contains("`" + section + ".") && r.contains(leaf)));
      if (!documented) {
        missing.add(key);
      }
    }
    assertEquals(List.of(), missing, "keys missing from README's configuration table");
  }

  @SuppressWarnings("unchecked")
  private static List<String> keys(Map<String, Object> tree, String prefix) {
    List<String> out = new ArrayList<>();
    for (Map.Entry<String, Object> e : tree.entrySet()) {
      String key = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
      if (e.getValue() instanceof Map<?, ?> m) {
        out.addAll(keys((Map<String, Object>) m, key));
      } else {
        out.add(key);
      }
    }
    return out;
  }
}
