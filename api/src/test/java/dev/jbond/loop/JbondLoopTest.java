package dev.jbond.loop;

import static dev.jbond.testing.Fixtures.generation;
import static dev.jbond.testing.Fixtures.prompt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyDouble;
import static org.mockito.ArgumentMatchers.anyInt;
import static org.mockito.ArgumentMatchers.anyList;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.inOrder;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import dev.jbond.BackendException;
import dev.jbond.Generation;
import dev.jbond.ModelVersion;
import dev.jbond.PolicyRole;
import dev.jbond.Prompt;
import dev.jbond.TrainingDivergedException;
import dev.jbond.metrics.StepMetrics;
import dev.jbond.objective.Jbond;
import dev.jbond.spi.CheckpointStore;
import dev.jbond.spi.PolicyLearner;
import dev.jbond.spi.PolicySampler;
import dev.jbond.spi.RewardModel;
import dev.jbond.spi.StepOutcome;
import dev.jbond.spi.WeightPublisher;
import dev.jbond.spi.WeightedSequence;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.mockito.InOrder;

class JbondLoopTest {
  private final List<Prompt> prompts = List.of(prompt("a"), prompt("b"));
  private PolicySampler sampler;
  private RewardModel reward;
  private PolicyLearner learner;
  private WeightPublisher publisher;
  private final AtomicLong steps = new AtomicLong();
  private final AtomicLong servedPolicy = new AtomicLong();
  private final List<StepMetrics> metrics = new ArrayList<>();

  @BeforeEach
  void setUp() {
    sampler = mock(PolicySampler.class);
    reward = mock(RewardModel.class);
    learner = mock(PolicyLearner.class);
    publisher = mock(WeightPublisher.class);
    samplerWithLogProbs(null);
    when(reward.score(anyList()))
        .thenAnswer(
            inv -> {
              List<Generation> gs = inv.getArgument(0);
              double[] r = new double[gs.size()];
              for (int i = 0; i < r.length; i++) {
                r[i] = gs.get(i).completion().get(0) * 0.1 + i * 0.01;
              }
              return r;
            });
    when(learner.logProbs(any(), anyList()))
        .thenAnswer(
            inv -> {
              double[] lp = new double[((List<?>) inv.getArgument(1)).size()];
              Arrays.fill(lp, -1.0);
              return lp;
            });
    when(learner.prepareStep(anyList()))
        .thenAnswer(
            inv -> {
              double[] lp = new double[((List<?>) inv.getArgument(0)).size()];
              Arrays.fill(lp, -1.0);
              return lp;
            });
    when(learner.stepCount()).thenAnswer(inv -> steps.get());
    when(learner.step(anyList()))
        .thenAnswer(inv -> new StepOutcome(steps.incrementAndGet(), 0.5, 1.0, 1e-3));
    when(publisher.publish(
            any(), org.mockito.ArgumentMatchers.<java.util.Set<PolicyRole>>any(), anyLong()))
        .thenCallRealMethod();
    when(publisher.publish(any(), any(PolicyRole.class), anyLong()))
        .thenAnswer(
            inv -> {
              PolicyRole role = inv.getArgument(1);
              long v = inv.getArgument(2);
              if (role == PolicyRole.POLICY) {
                servedPolicy.set(v);
              }
              return new ModelVersion(role.label(), v);
            });
  }

  private JbondLoop.Builder loop() {
    return JbondLoop.builder(
            Jbond.defaults(),
            sampler,
            reward,
            learner,
            publisher,
            PromptSource.shuffled(prompts, 2, 1))
        .optMetricsSink(metrics::add)
        .optExecutor(Runnable::run);
  }

  @Test
  void step_stalenessZero_callsTheSpiInOrder() {
    try (JbondLoop l = loop().build()) {
      StepMetrics m = l.step();
      InOrder order = inOrder(sampler, reward, learner, publisher);
      order.verify(publisher).publish(learner, PolicyRole.POLICY, 0);
      order.verify(publisher).publish(learner, PolicyRole.ANCHOR, 0);
      order.verify(sampler).sample(anyList(), eq(1), eq(PolicyRole.POLICY), anyLong());
      order.verify(sampler).sample(anyList(), eq(2), eq(PolicyRole.ANCHOR), anyLong());
      order.verify(reward).score(anyList());
      order.verify(learner).prepareStep(anyList());
      order.verify(learner).step(anyList());
      order.verify(learner).updateAnchor(0.02);
      order.verify(publisher).publish(learner, PolicyRole.POLICY, 1);
      order.verify(publisher).publish(learner, PolicyRole.ANCHOR, 1);
      assertEquals(1, m.step());
      assertEquals(2, m.prompts());
      assertEquals(0, m.staleness());
      assertEquals(List.of(m), metrics);
      assertTrue(m.timings().containsKey("learn"), m.timings().toString());
    }
  }

  @Test
  void step_forwardLossTracked_scoresTheComparisonSamplesUnderThePolicy() {
    try (JbondLoop l = loop().optReuseForward(false).build()) {
      StepMetrics m = l.step();
      verify(learner, times(2)).logProbs(eq(PolicyRole.POLICY), anyList());
      verify(learner, never()).prepareStep(anyList());
      assertEquals(1.0, m.lossForward(), 1e-12);
    }
  }

  /**
   * The policy's forward pass runs once over exactly what the step trains on: the policy samples,
   * then the better anchor sample of each prompt; the batch holds those same objects; the anchor is
   * scored on the policy samples only, and the reference not at all unless tracked.
   */
  @Test
  void step_reusedForward_preparesThePolicySamplesAndTheTrainedAnchorSamples() {
    List<List<Generation>> prepared = new ArrayList<>();
    List<List<WeightedSequence>> batches = new ArrayList<>();
    when(learner.prepareStep(anyList()))
        .thenAnswer(
            inv -> {
              List<Generation> g = List.copyOf(inv.getArgument(0));
              prepared.add(g);
              double[] lp = new double[g.size()];
              Arrays.fill(lp, -1.0);
              return lp;
            });
    when(learner.step(anyList()))
        .thenAnswer(
            inv -> {
              batches.add(List.copyOf(inv.getArgument(0)));
              return new StepOutcome(steps.incrementAndGet(), 0.5, 1.0, 1e-3);
            });
    try (JbondLoop l = loop().build()) {
      StepMetrics m = l.step();

      assertEquals(1, prepared.size());
      List<Generation> forward = prepared.get(0);
      // 2 prompts: 2 policy samples, then per prompt the anchor sample with the higher reward
      // (the mock's rewards grow with the position in the request, so the second one)
      assertEquals(4, forward.size());
      assertEquals("policy", forward.get(0).model().name());
      assertEquals("policy", forward.get(1).model().name());
      assertEquals("anchor", forward.get(2).model().name());
      assertEquals(forward.get(0).prompt(), forward.get(2).prompt());
      assertEquals(1, forward.get(2).completion().get(0) % 2);
      for (WeightedSequence s : batches.get(0)) {
        assertTrue(
            forward.stream().anyMatch(g -> g == s.generation()),
            "a batch sequence that was not prepared: " + s);
      }
      verify(learner, never()).logProbs(eq(PolicyRole.POLICY), anyList());
      verify(learner)
          .logProbs(
              eq(PolicyRole.ANCHOR), org.mockito.ArgumentMatchers.argThat(g -> g.size() == 2));
      verify(learner, never()).logProbs(eq(PolicyRole.REFERENCE), anyList());
      assertTrue(Double.isNaN(m.klReference()), "klReference " + m.klReference());
      assertEquals(1.0, m.lossForward(), 1e-12);
    }
  }

  @Test
  void step_forwardLossOff_skipsThatForwardPass_sameWeights() {
    List<List<WeightedSequence>> tracked = new ArrayList<>();
    when(learner.step(anyList()))
        .thenAnswer(
            inv -> {
              tracked.add(List.copyOf(inv.getArgument(0)));
              return new StepOutcome(steps.incrementAndGet(), 0.5, 1.0, 1e-3);
            });
    try (JbondLoop l = loop().optReuseForward(false).build()) {
      l.step();
    }
    steps.set(0); // the same step of the same prompt order again
    try (JbondLoop l = loop().optReuseForward(false).optTrackForwardLoss(false).build()) {
      StepMetrics m = l.step();
      verify(learner, times(3)).logProbs(eq(PolicyRole.POLICY), anyList());
      assertTrue(Double.isNaN(m.lossForward()), "lossForward " + m.lossForward());
      assertTrue(Double.isNaN(m.loss()), "loss " + m.loss());
    }
    assertEquals(2, tracked.size());
    assertEquals(tracked.get(0).size(), tracked.get(1).size());
    for (int i = 0; i < tracked.get(0).size(); i++) {
      WeightedSequence on = tracked.get(0).get(i);
      WeightedSequence off = tracked.get(1).get(i);
      assertEquals(on.generation().prompt(), off.generation().prompt());
      assertEquals(on.generation().completion(), off.generation().completion());
      assertEquals(on.weight(), off.weight(), 0.0, "weight " + i);
    }
  }

  /**
   * A sampler whose policy samples carry per-token log-probs summing to {@code policyLogProb[0]}
   * (anchor samples -1), or none when {@code policyLogProb} is null.
   */
  private void samplerWithLogProbs(double[] policyLogProb) {
    when(sampler.sample(anyList(), anyInt(), any(), anyLong()))
        .thenAnswer(
            inv -> {
              List<Prompt> ps = inv.getArgument(0);
              int k = inv.getArgument(1);
              PolicyRole role = inv.getArgument(2);
              List<Generation> out = new ArrayList<>();
              for (Prompt p : ps) {
                for (int j = 0; j < k; j++) {
                  Generation g = generation(p, j, role.label(), servedPolicy.get());
                  if (policyLogProb == null) {
                    out.add(g);
                    continue;
                  }
                  double lp = role == PolicyRole.POLICY ? policyLogProb[0] : -1.0;
                  out.add(
                      new Generation(
                          g.prompt(),
                          g.completion(),
                          java.util.Optional.of(dev.jbond.LogProbs.of(lp)),
                          g.model()));
                }
              }
              return out;
            });
  }

  /**
   * At staleness 0 the sampler's log-probs of the policy samples are compared with the learner's:
   * in sync the largest difference is reported; past the tolerance the step fails naming the served
   * version before the learner steps, and the retry publishes both roles again.
   */
  @Test
  void step_samplerOutOfSync_failsBeforeLearningAndTheRetryRepublishes() {
    double[] served = {-1.0};
    samplerWithLogProbs(served);
    try (JbondLoop l = loop().build()) {
      StepMetrics m = l.step();
      assertEquals(0.0, m.extras().get("samplerLogProbError"), 0.0);

      served[0] = -1.25; // the server kept other weights than the learner's
      BackendException e = assertThrows(BackendException.class, l::step);
      assertEquals(BackendException.Code.OUT_OF_SYNC, e.code());
      assertTrue(
          e.getMessage()
              .startsWith(
                  "Expected the policy samples of step 2 from the weights of"
                      + " step 1, found samples served as policy@1 whose log-probability differs from"
                      + " the learner's by 0.2500 nats"),
          e.getMessage());
      assertEquals(1, steps.get());
      verify(learner, times(1)).step(anyList());

      served[0] = -1.0;
      m = l.step();
      assertEquals(2, m.step());
      // both roles of step 1 were published again before the retry sampled
      verify(publisher, times(2)).publish(learner, PolicyRole.POLICY, 1);
      verify(publisher, times(2)).publish(learner, PolicyRole.ANCHOR, 1);
    }
  }

  @Test
  void step_samplerWithoutLogProbsOrStale_reportsNoSyncError() {
    try (JbondLoop l = loop().build()) {
      assertTrue(!l.step().extras().containsKey("samplerLogProbError"));
    }
    double[] served = {-1.0};
    samplerWithLogProbs(served);
    try (JbondLoop l = loop().optStaleness(1).optImportanceCorrection(false).build()) {
      // the first step's samples come from the current weights; later ones are one step old and
      // not compared (the importance correction weights them instead)
      assertEquals(0.0, l.step().extras().get("samplerLogProbError"), 0.0);
      served[0] = -7.0;
      assertTrue(!l.step().extras().containsKey("samplerLogProbError"));
      assertTrue(!l.step().extras().containsKey("samplerLogProbError"));
    }
  }

  @Test
  void step_batchesAllSamplesIntoOneRewardRequest() {
    try (JbondLoop l = loop().build()) {
      l.step();
      verify(reward, times(1)).score(org.mockito.ArgumentMatchers.argThat(g -> g.size() == 6));
    }
  }

  @Test
  void step_samplerFails_learnerUntouchedAndRetrySucceeds() {
    when(sampler.sample(anyList(), anyInt(), eq(PolicyRole.ANCHOR), anyLong()))
        .thenThrow(new BackendException(BackendException.Code.UNAVAILABLE, "down", null))
        .thenAnswer(
            inv -> {
              List<Prompt> ps = inv.getArgument(0);
              List<Generation> out = new ArrayList<>();
              for (Prompt p : ps) {
                out.add(generation(p, 0, "anchor", 0));
                out.add(generation(p, 1, "anchor", 0));
              }
              return out;
            });
    try (JbondLoop l = loop().build()) {
      assertThrows(BackendException.class, l::step);
      verify(learner, never()).step(anyList());
      verify(learner, never()).updateAnchor(anyDouble());
      assertEquals(1, l.step().step());
    }
  }

  @Test
  void step_nonFiniteReward_failsNamingThePromptBeforeLearning() {
    when(reward.score(anyList())).thenReturn(new double[] {0, Double.NaN, 0, 0, 0, 0});
    try (JbondLoop l = loop().build()) {
      IllegalStateException e = assertThrows(IllegalStateException.class, l::step);
      assertTrue(
          e.getMessage().startsWith("Expected a finite reward, found NaN for sample 1 of prompt"),
          e.getMessage());
      verify(learner, never()).step(anyList());
    }
  }

  @Test
  void step_samplerReturnsTooFew_failsWithCounts() {
    when(sampler.sample(anyList(), anyInt(), eq(PolicyRole.POLICY), anyLong()))
        .thenReturn(List.of(generation(prompts.get(0), 0, "policy", 0)));
    try (JbondLoop l = loop().build()) {
      assertEquals(
          "Expected 2 policy samples (2 prompts x 1), found 1",
          assertThrows(IllegalStateException.class, l::step).getMessage());
    }
  }

  @Test
  void step_learnerDiverges_nothingPublishedAfter() {
    doThrow(new TrainingDivergedException(1, "loss is NaN")).when(learner).step(anyList());
    try (JbondLoop l = loop().build()) {
      assertThrows(TrainingDivergedException.class, l::step);
      verify(publisher, never()).publish(any(), any(PolicyRole.class), eq(1L));
      verify(learner, never()).updateAnchor(anyDouble());
    }
  }

  @Test
  void step_nanLogProb_throwsTrainingDivergedNamingTheStep() {
    // the reused forward pass: 2 policy samples and 2 trained anchor samples
    when(learner.prepareStep(anyList())).thenReturn(new double[] {-1, Double.NaN, -1, -1});
    when(learner.logProbs(eq(PolicyRole.POLICY), anyList()))
        .thenReturn(new double[] {-1, Double.NaN});
    for (boolean reuse : new boolean[] {true, false}) {
      try (JbondLoop l = loop().optReuseForward(reuse).build()) {
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, l::step);
        assertEquals(1, e.step());
        assertTrue(e.getMessage().contains("is NaN"), e.getMessage());
      }
    }
  }

  @Test
  void step_stalenessOne_samplesNextStepBeforeLearning() {
    try (JbondLoop l = loop().optStaleness(1).optImportanceCorrection(false).build()) {
      l.step();
      InOrder order = inOrder(sampler, learner);
      order.verify(sampler, times(2)).sample(anyList(), eq(1), eq(PolicyRole.POLICY), anyLong());
      order.verify(learner).step(anyList());
      StepMetrics second = l.step();
      // the second step's samples were drawn from version 0, before step 1 was published
      assertEquals(0, second.policyVersion());
      assertEquals(1, second.staleness());
    }
  }

  @Test
  void step_stalenessOne_failedPrefetch_learningStandsAndNextStepResamples() {
    AtomicLong policyCalls = new AtomicLong();
    when(sampler.sample(anyList(), anyInt(), eq(PolicyRole.POLICY), anyLong()))
        .thenAnswer(
            inv -> {
              if (policyCalls.incrementAndGet() == 2) {
                throw new BackendException(BackendException.Code.UNAVAILABLE, "blip", null);
              }
              List<Prompt> ps = inv.getArgument(0);
              List<Generation> out = new ArrayList<>();
              for (Prompt p : ps) {
                out.add(generation(p, 0, "policy", servedPolicy.get()));
              }
              return out;
            });
    try (JbondLoop l = loop().optStaleness(1).optImportanceCorrection(false).build()) {
      assertEquals(1, l.step().step()); // the prefetch for step 2 failed, step 1 still learned
      verify(publisher).publish(learner, PolicyRole.POLICY, 1);
      StepMetrics second = l.step(); // re-sampled from the published version 1
      assertEquals(2, second.step());
      assertEquals(1, second.policyVersion());
    }
  }

  @Test
  void step_stalenessOne_correctionWithoutSamplerLogProbs_failsClearly() {
    // this file's mock sampler returns no log-probs (the scheduling tests above turn the
    // correction off); the correction itself is tested in StaleCorrectionTest
    try (JbondLoop l = loop().optStaleness(1).build()) {
      IllegalStateException e = assertThrows(IllegalStateException.class, l::step);
      assertTrue(
          e.getMessage()
              .startsWith(
                  "Expected the sampler's log-probabilities of every sample to importance weight"
                      + " stale samples (staleness 1) at step 1, found none for sample 0"),
          e.getMessage());
    }
  }

  @Test
  void step_stalenessZero_samplesComeFromPreviousStep() {
    try (JbondLoop l = loop().build()) {
      l.step();
      StepMetrics second = l.step();
      assertEquals(1, second.policyVersion());
      assertEquals(0, second.staleness());
    }
  }

  @Test
  void step_klAboveLimit_throwsTrainingDiverged() {
    when(learner.logProbs(eq(PolicyRole.ANCHOR), anyList())).thenReturn(new double[] {-9, -9});
    try (JbondLoop l = loop().optMaxKl(5).build()) {
      TrainingDivergedException e = assertThrows(TrainingDivergedException.class, l::step);
      assertTrue(e.getMessage().contains("exceeds the limit 5.0"), e.getMessage());
      verify(learner, never()).step(anyList());
    }
  }

  @Test
  void step_checkpointsEveryK() throws Exception {
    CheckpointStore store = mock(CheckpointStore.class);
    try (JbondLoop l = loop().optCheckpoints(store, 2).build()) {
      l.run(4);
    }
    verify(store).save(eq(2L), any());
    verify(store).save(eq(4L), any());
    verify(store, times(2)).save(anyLong(), any());
  }

  @Test
  void step_publishFailsAfterLearning_metricsEmittedAndNextStepPublishesFirst() {
    doThrow(new BackendException(BackendException.Code.UNAVAILABLE, "down", null))
        .doThrow(new BackendException(BackendException.Code.UNAVAILABLE, "still down", null))
        .doReturn(new ModelVersion("policy", 1))
        .when(publisher)
        .publish(any(), eq(PolicyRole.POLICY), eq(1L));
    try (JbondLoop l = loop().build()) {
      assertEquals(1, l.step().step());
      assertEquals(1, metrics.size());

      // the next step cannot sample stale weights: it publishes first, and fails while it cannot
      assertThrows(BackendException.class, l::step);
      verify(learner, times(1)).step(anyList());
      assertEquals(2, l.step().step());
    }
    InOrder order = inOrder(publisher, sampler);
    order.verify(publisher, times(3)).publish(learner, PolicyRole.POLICY, 1);
    order.verify(sampler, times(1)).sample(anyList(), eq(1), eq(PolicyRole.POLICY), anyLong());
  }

  @Test
  void checkpoint_withExtension_writesAndResumeReadsItsBlock() throws Exception {
    Map<Long, byte[]> saved = new java.util.HashMap<>();
    CheckpointStore store = mock(CheckpointStore.class);
    doAnswer(
            inv -> {
              java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
              CheckpointStore.Writer w = inv.getArgument(1);
              w.write(bytes);
              saved.put(inv.getArgument(0), bytes.toByteArray());
              return null;
            })
        .when(store)
        .save(anyLong(), any());
    when(store.steps()).thenAnswer(inv -> new ArrayList<>(new java.util.TreeSet<>(saved.keySet())));
    when(store.open(anyLong()))
        .thenAnswer(inv -> new java.io.ByteArrayInputStream(saved.get((Long) inv.getArgument(0))));
    doAnswer(
            inv -> {
              java.io.OutputStream out = inv.getArgument(0);
              new java.io.DataOutputStream(out).writeLong(steps.get());
              return null;
            })
        .when(learner)
        .snapshot(any());
    doAnswer(
            inv -> {
              steps.set(
                  new java.io.DataInputStream((java.io.InputStream) inv.getArgument(0)).readLong());
              return null;
            })
        .when(learner)
        .restore(any());
    List<String> read = new ArrayList<>();
    CheckpointExtension extension =
        new CheckpointExtension() {
          @Override
          public void write(long step, java.io.DataOutputStream out) throws java.io.IOException {
            out.writeUTF("state of step " + step);
          }

          @Override
          public void read(long step, java.io.DataInputStream in) throws java.io.IOException {
            read.add(in.readUTF() + " read at " + step);
          }
        };
    try (JbondLoop l =
        loop().optCheckpoints(store, 1000).optCheckpointExtension(extension).build()) {
      l.run(3);
      assertEquals(3, l.checkpoint());
    }
    steps.set(0);
    try (JbondLoop l =
        loop().optCheckpoints(store, 1000).optCheckpointExtension(extension).build()) {
      assertEquals(java.util.Optional.of(3L), l.resume());
    }
    assertEquals(List.of("state of step 3 read at 3"), read);
    assertEquals(3, steps.get());
  }

  @Test
  void step_afterClose_throws() {
    JbondLoop l = loop().build();
    l.close();
    l.close();
    assertEquals(
        "JbondLoop is closed", assertThrows(IllegalStateException.class, l::step).getMessage());
  }
}
