package dev.jbond.tests;

import dev.jbond.Generation;
import dev.jbond.ModelVersion;
import dev.jbond.Prompt;
import dev.jbond.TokenSequence;
import dev.jbond.reference.TabularBackend;
import dev.jbond.reference.TabularProblem;
import dev.jbond.spi.PolicyLearner;
import dev.jbond.spi.PolicySampler;
import dev.jbond.testing.PolicyLearnerContract;
import dev.jbond.testing.PolicySamplerContract;
import java.util.List;
import org.junit.jupiter.api.Nested;

/** The tabular reference backend against the SPI contracts. */
class TabularConformanceTest {
  private static final TabularProblem PROBLEM = TabularProblem.random(3, 6, 1.0, 0, 17);

  @Nested
  class Learner extends PolicyLearnerContract {
    @Override
    protected PolicyLearner newLearner() {
      return TabularBackend.adam(PROBLEM, 0.1);
    }

    @Override
    protected List<Generation> sequences() {
      ModelVersion m = new ModelVersion("t", 0);
      return List.of(
          Generation.of(PROBLEM.prompts().get(0), TokenSequence.of(2), m),
          Generation.of(PROBLEM.prompts().get(1), TokenSequence.of(5), m),
          Generation.of(PROBLEM.prompts().get(2), TokenSequence.of(0), m));
    }
  }

  @Nested
  class Sampler extends PolicySamplerContract {
    @Override
    protected PolicySampler newSampler() {
      return TabularBackend.adam(PROBLEM, 0.1);
    }

    @Override
    protected List<Prompt> prompts() {
      return PROBLEM.prompts();
    }
  }
}
