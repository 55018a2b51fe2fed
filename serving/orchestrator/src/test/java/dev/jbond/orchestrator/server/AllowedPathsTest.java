package dev.jbond.orchestrator.server;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.jbond.orchestrator.config.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AllowedPathsTest {
  @TempDir Path dir;

  @Test
  void pathsUnderARoot_areAllowed_evenWhenTheyDoNotExistYet() throws Exception {
    Path root = Files.createDirectories(dir.resolve("root"));
    Files.writeString(root.resolve("prompts.jsonl"), "{}\n");
    AllowedPaths allowed = new AllowedPaths(List.of(root));
    assertDoesNotThrow(() -> allowed.check("prompts.file", root.resolve("prompts.jsonl")));
    assertDoesNotThrow(() -> allowed.check("policy.model", root.resolve("a/b/not-yet")));
    assertDoesNotThrow(() -> allowed.check("policy.model", root.resolve("a/../prompts.jsonl")));
  }

  @Test
  void escapes_areRefusedNamingTheKey() throws Exception {
    Path root = Files.createDirectories(dir.resolve("root"));
    Path sibling = Files.createDirectories(dir.resolve("root-sibling"));
    Path outside = Files.createDirectories(dir.resolve("outside"));
    Files.writeString(outside.resolve("secret"), "x");
    Files.createSymbolicLink(root.resolve("link"), outside);
    Files.createSymbolicLink(root.resolve("file-link"), outside.resolve("secret"));
    AllowedPaths allowed = new AllowedPaths(List.of(root));

    ConfigException dots =
        assertThrows(
            ConfigException.class, () -> allowed.check("reward.model", root.resolve("../outside")));
    assertEquals("reward.model", dots.key());
    assertEquals(
        "reward.model: expected a path under the server's allowed roots ["
            + root
            + "], found "
            + root.resolve("../outside"),
        dots.getMessage());
    // a name that starts like the root is not under it
    assertThrows(ConfigException.class, () -> allowed.check("k", sibling.resolve("x")));
    // symbolic links that lead out, to a folder (and below it) or to a file
    ConfigException link =
        assertThrows(
            ConfigException.class,
            () -> allowed.check("prompts.file", root.resolve("link/secret")));
    assertEquals(
        "prompts.file: expected a path under the server's allowed roots ["
            + root
            + "], found "
            + root.resolve("link/secret")
            + ", which a symbolic link leads out of them",
        link.getMessage());
    assertThrows(ConfigException.class, () -> allowed.check("k", root.resolve("link/not-there/x")));
    assertThrows(ConfigException.class, () -> allowed.check("k", root.resolve("file-link")));
  }

  @Test
  void aRootBehindASymbolicLink_allowsWhatLiesInIt() throws Exception {
    Path real = Files.createDirectories(dir.resolve("real"));
    Files.writeString(real.resolve("prompts.jsonl"), "{}\n");
    Path alias = Files.createSymbolicLink(dir.resolve("alias"), real);
    AllowedPaths allowed = new AllowedPaths(List.of(alias));
    assertDoesNotThrow(() -> allowed.check("prompts.file", alias.resolve("prompts.jsonl")));
  }
}
