package dev.jbond.models.generate;

/** Why a sampled completion ended. */
public enum StopReason {
  /** The completion's last token is an EOS token of the {@link SamplingConfig}. */
  EOS,
  /** The completion reached {@link SamplingConfig#maxNewTokens()} without an EOS token. */
  LENGTH
}
