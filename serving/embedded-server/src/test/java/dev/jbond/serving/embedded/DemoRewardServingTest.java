package dev.jbond.serving.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jbond.models.demo.DemoAssets;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo reward model as written by {@link DemoAssets} loads in the embedded server. */
class DemoRewardServingTest {
  @TempDir Path repo;

  @Test
  void start_demoRewardRepository_servesTheRewardModel() throws Exception {
    DemoAssets.writeReward(repo, 0);

    try (EmbeddedServerFixture fixture = EmbeddedServerFixture.start(repo)) {
      assertEquals(
          List.of(new ModelStatus("reward", OptionalLong.of(1), ModelState.READY, "")),
          fixture.server.models());
    }
  }
}
