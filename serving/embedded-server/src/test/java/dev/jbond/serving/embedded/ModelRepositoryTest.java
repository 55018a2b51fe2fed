package dev.jbond.serving.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jbond.onnx.ModelLoadException;
import dev.jbond.serving.triton.proto.ModelConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Triton repository layout: version directories, version policies, configs, model files. */
class ModelRepositoryTest {
  @TempDir Path repo;

  private Path model(String name, String config, String... versions) throws Exception {
    Path dir = repo.resolve(name);
    Files.createDirectories(dir);
    for (String version : versions) {
      Files.createDirectories(dir.resolve(version));
    }
    if (config != null) {
      Files.writeString(dir.resolve(ModelRepository.CONFIG_FILE), config);
    }
    return dir;
  }

  private static List<Long> numbers(ModelSource source) {
    return source.versions().stream().map(ModelVersionDirectory::version).toList();
  }

  @Test
  void read_defaultPolicy_servesTheLatestNumericVersion_ignoringOtherNames() throws Exception {
    model("rm", null, "1", "3", "10", "02", "0", "beta");
    Files.createDirectories(repo.resolve(".hidden"));

    ModelSource source = new ModelRepository(repo).read("rm", Optional.empty());

    assertEquals(List.of(10L), numbers(source));
    assertFalse(source.configWritten());
    assertEquals(List.of("rm"), new ModelRepository(repo).modelNames());
  }

  @Test
  void read_versionPolicies_selectLatestNAllOrSpecific() throws Exception {
    model("latest", "version_policy { latest { num_versions: 2 } }", "1", "2", "3");
    model("all", "version_policy { all {} }", "1", "2", "3");
    model("specific", "version_policy { specific { versions: [1, 3] } }", "1", "2", "3");
    ModelRepository repository = new ModelRepository(repo);

    assertEquals(List.of(2L, 3L), numbers(repository.read("latest", Optional.empty())));
    assertEquals(List.of(1L, 2L, 3L), numbers(repository.read("all", Optional.empty())));
    assertEquals(List.of(1L, 3L), numbers(repository.read("specific", Optional.empty())));
    assertTrue(repository.read("all", Optional.empty()).configWritten());
  }

  @Test
  void read_specificVersionMissing_failsNamingWhatExists() throws Exception {
    Path dir = model("rm", "version_policy { specific { versions: [4] } }", "1", "2");

    ModelLoadException e =
        assertThrows(
            ModelLoadException.class, () -> new ModelRepository(repo).read("rm", Optional.empty()));

    assertEquals(
        "Model 'rm': expected version directories [4] of the specific version policy in "
            + dir.toAbsolutePath()
            + ", found [1, 2]",
        e.getMessage());
  }

  @Test
  void read_noVersionDirectory_failsListingTheDirectory() throws Exception {
    Path dir = model("rm", "max_batch_size: 2", "latest");

    ModelLoadException e =
        assertThrows(
            ModelLoadException.class, () -> new ModelRepository(repo).read("rm", Optional.empty()));

    assertEquals(
        "Model 'rm': expected at least one numeric version directory in "
            + dir.toAbsolutePath()
            + ", found [config.pbtxt, latest]",
        e.getMessage());
  }

  @Test
  void read_configNamingAnotherModel_fails() throws Exception {
    model("rm", "name: \"other\"", "1");

    ModelLoadException e =
        assertThrows(
            ModelLoadException.class, () -> new ModelRepository(repo).read("rm", Optional.empty()));

    assertEquals(
        "Model 'rm': expected config name 'rm' (the directory name), found 'other'",
        e.getMessage());
  }

  @Test
  void read_configWithFieldOutsideTheSubset_failsNamingTheField() throws Exception {
    Path dir = model("rm", "max_batch_size: 2\noptimization { }", "1");

    ModelLoadException e =
        assertThrows(
            ModelLoadException.class, () -> new ModelRepository(repo).read("rm", Optional.empty()));

    assertTrue(
        e.getMessage()
            .startsWith(
                "Model 'rm': expected a ModelConfig in "
                    + dir.resolve("config.pbtxt").toAbsolutePath()
                    + ", found 2:1:"),
        e.getMessage());
    assertTrue(e.getMessage().contains("optimization"), e.getMessage());
  }

  @Test
  void read_configOverride_replacesTheFile() throws Exception {
    model("rm", "max_batch_size: 2", "1");

    ModelSource source =
        new ModelRepository(repo)
            .read("rm", Optional.of(ModelConfig.newBuilder().setMaxBatchSize(5).build()));

    assertEquals(5, source.config().getMaxBatchSize());
    assertTrue(source.configWritten());
  }

  @Test
  void read_unknownModel_failsListingTheModels() throws Exception {
    model("a", null, "1");
    model("b", null, "1");

    ModelLoadException e =
        assertThrows(
            ModelLoadException.class, () -> new ModelRepository(repo).read("c", Optional.empty()));

    assertEquals(
        "Expected model 'c' in repository " + repo.toAbsolutePath() + ", found [a, b]",
        e.getMessage());
  }

  @Test
  void onnxFile_missing_failsListingTheVersionDirectory() throws Exception {
    Path dir = model("rm", null, "1");
    Files.writeString(dir.resolve("1").resolve("a.txt"), "x");
    ModelSource source = new ModelRepository(repo).read("rm", Optional.empty());

    ModelLoadException e =
        assertThrows(
            ModelLoadException.class,
            () -> ModelRepository.onnxFile("rm", source.config(), source.versions().get(0)));

    assertEquals(
        "Model 'rm' version 1: expected model.onnx in "
            + dir.resolve("1").toAbsolutePath()
            + ", found [a.txt]",
        e.getMessage());
  }

  @Test
  void constructor_missingDirectory_fails() {
    Path missing = repo.resolve("missing");

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new ModelRepository(missing));

    assertEquals(
        "Expected a model repository directory at " + missing.toAbsolutePath() + ", found none",
        e.getMessage());
  }
}
