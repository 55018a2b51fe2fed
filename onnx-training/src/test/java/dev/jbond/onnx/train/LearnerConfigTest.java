package dev.jbond.onnx.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.jbond.BackendException;
import dev.jbond.onnx.ort.ExecutionProvider;
import dev.jbond.onnx.ort.OrtEnvironments;
import dev.jbond.onnx.ort.SessionConfig;
import org.junit.jupiter.api.Test;

class LearnerConfigTest {
  @Test
  void defaults_areThePapersAdamSettingsWithWarmupAndClipping() {
    LearnerConfig c = LearnerConfig.defaults();

    assertEquals(3e-6, c.learningRate());
    assertEquals(0.9, c.beta1());
    assertEquals(0.999, c.beta2());
    assertEquals(1e-8, c.epsilon());
    assertEquals(0.0, c.weightDecay());
    assertEquals(LearningRateSchedule.constant(100), c.schedule());
    assertEquals(1.0, c.maxGradientNorm());
    assertEquals(4096, c.maxTokensPerRun());
    assertEquals(0, c.contextLength());
    assertEquals(ExecutionProvider.CPU, c.session().executionProvider());
    assertEquals(3e-8, c.learningRateAt(1), 1e-20);
  }

  @Test
  void build_outOfRangeSettings_failClearly() {
    assertEquals(
        "Expected a finite learning rate >= 0, found -1.0",
        assertThrows(
                IllegalArgumentException.class,
                () -> LearnerConfig.builder().optLearningRate(-1).build())
            .getMessage());
    assertEquals(
        "Expected maxTokensPerRun >= 1, found 0",
        assertThrows(
                IllegalArgumentException.class,
                () -> LearnerConfig.builder().optMaxTokensPerRun(0).build())
            .getMessage());
    assertEquals(
        "Expected beta2 in [0, 1), found 1.5",
        assertThrows(
                IllegalArgumentException.class,
                () -> LearnerConfig.builder().optBetas(0.9, 1.5).build())
            .getMessage());
  }

  @Test
  void open_cudaRequestedOnCpuBuild_failsAsUnavailable() {
    assumeFalse(
        OrtEnvironments.availableProviders().contains("CUDA"),
        "a CUDA build of ONNX Runtime is on the class path");
    LearnerConfig cuda =
        LearnerConfig.builder()
            .optSession(
                SessionConfig.builder().optExecutionProvider(ExecutionProvider.CUDA).build())
            .build();

    BackendException e =
        assertThrows(
            BackendException.class,
            () -> OrtPolicyLearner.create(OrtPolicyLearnerTest.fixture(17), cuda));

    assertEquals(BackendException.Code.UNAVAILABLE, e.code());
    assertEquals(
        "Expected the CUDA execution provider for model 'gpt2_tiny_opset17.onnx (log-probabilities)', available: [CPU]"
            + " (build with the Maven profile 'cuda' for onnxruntime_gpu)",
        e.getMessage());
  }
}
