package dev.jbond.orchestrator.run;

import dev.jbond.ModelVersion;
import dev.jbond.PolicyRole;
import dev.jbond.loop.CheckpointExtension;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * What a run's checkpoint carries beside the learner (the policy, anchor and reference weights, the
 * optimizer state and the step count): the run's seed, from which every random choice derives by
 * step (sampling requests, prompt order, evaluation samples: so the seed and the step are the whole
 * random state); the prompt cursor; the reference's identity (a resumed run must compare against
 * the same reference); the served weight versions; and the metrics and evaluation lines of the
 * checkpoint's own step, so that a crash between the checkpoint and the lines' write loses nothing.
 *
 * <p>Call order: {@link #pending} before each checkpoint; on resume the loop calls {@link #read},
 * after which {@link #restoredMetricsLine()} and {@link #restoredEvalLine()} hold the lines.
 */
final class RunState implements CheckpointExtension {
  private static final int MAGIC = 0x4a42524e; // "JBRN"
  private static final int FORMAT = 1;

  private final long seed;
  private final int batchSize;
  private final String referenceIdentity;
  private final Supplier<Map<PolicyRole, ModelVersion>> served;
  private String pendingMetrics = "";
  private String pendingEval = "";
  private String restoredMetrics = "";
  private String restoredEval = "";
  private final Map<PolicyRole, ModelVersion> restoredServed = new EnumMap<>(PolicyRole.class);

  /**
   * Creates the state of a run.
   *
   * @param seed the run's seed
   * @param batchSize prompts per step
   * @param referenceIdentity the reference model's content hash
   * @param served the loop's served versions, read at each checkpoint
   */
  RunState(
      long seed,
      int batchSize,
      String referenceIdentity,
      Supplier<Map<PolicyRole, ModelVersion>> served) {
    this.seed = seed;
    this.batchSize = batchSize;
    this.referenceIdentity = Objects.requireNonNull(referenceIdentity, "referenceIdentity");
    this.served = Objects.requireNonNull(served, "served");
  }

  /** Sets the lines of the step about to be checkpointed; empty when there is none. */
  void pending(String metricsLine, String evalLine) {
    this.pendingMetrics = Objects.requireNonNull(metricsLine, "metricsLine");
    this.pendingEval = Objects.requireNonNull(evalLine, "evalLine");
  }

  String restoredMetricsLine() {
    return restoredMetrics;
  }

  String restoredEvalLine() {
    return restoredEval;
  }

  Map<PolicyRole, ModelVersion> restoredServedVersions() {
    return Map.copyOf(restoredServed);
  }

  @Override
  public void write(long step, DataOutputStream out) throws IOException {
    out.writeInt(MAGIC);
    out.writeInt(FORMAT);
    out.writeLong(seed);
    out.writeInt(batchSize);
    out.writeLong(step * batchSize); // prompt cursor: prompts consumed so far
    out.writeUTF(referenceIdentity);
    Map<PolicyRole, ModelVersion> versions = served.get();
    out.writeInt(versions.size());
    for (Map.Entry<PolicyRole, ModelVersion> e : versions.entrySet()) {
      out.writeUTF(e.getKey().name());
      out.writeUTF(e.getValue().name());
      out.writeLong(e.getValue().version());
    }
    writeLong(out, pendingMetrics);
    writeLong(out, pendingEval);
  }

  @Override
  public void read(long step, DataInputStream in) throws IOException {
    if (in.readInt() != MAGIC) {
      throw new IOException("Expected jbond run state in the checkpoint, found other data");
    }
    int format = in.readInt();
    if (format != FORMAT) {
      throw new IOException("Expected run state format " + FORMAT + ", found " + format);
    }
    long writtenSeed = in.readLong();
    if (writtenSeed != seed) {
      throw new IOException(
          "Expected a checkpoint of a run with seed " + seed + " (run.seed), found " + writtenSeed);
    }
    int writtenBatch = in.readInt();
    long cursor = in.readLong();
    if (writtenBatch != batchSize) {
      throw new IOException(
          "Expected a checkpoint of a run with "
              + batchSize
              + " prompts per step (prompts.batch-size), found "
              + writtenBatch);
    }
    if (cursor != step * batchSize) {
      throw new IOException(
          "Expected prompt cursor " + step * batchSize + " at step " + step + ", found " + cursor);
    }
    String reference = in.readUTF();
    if (!reference.equals(referenceIdentity)) {
      throw new IOException(
          "Expected a checkpoint against reference "
              + referenceIdentity
              + ", found one against "
              + reference
              + " (the reference model changed)");
    }
    restoredServed.clear();
    int n = in.readInt();
    for (int i = 0; i < n; i++) {
      PolicyRole role = PolicyRole.valueOf(in.readUTF());
      restoredServed.put(role, new ModelVersion(in.readUTF(), in.readLong()));
    }
    restoredMetrics = readLong(in);
    restoredEval = readLong(in);
  }

  private static void writeLong(DataOutputStream out, String text) throws IOException {
    byte[] bytes = text.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    out.writeInt(bytes.length);
    out.write(bytes);
  }

  private static String readLong(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length < 0 || length > (64 << 20)) {
      throw new IOException("Expected a line of at most 64 MiB, found length " + length);
    }
    return new String(in.readNBytes(length), java.nio.charset.StandardCharsets.UTF_8);
  }
}
