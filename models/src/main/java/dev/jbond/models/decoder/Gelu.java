package dev.jbond.models.decoder;

/**
 * The form of the GELU activation in the decoder's MLP, {@code GELU(x) = x * Phi(x)} with {@code
 * Phi} the standard normal CDF.
 */
public enum Gelu {
  /**
   * The tanh approximation of GPT-2 ({@code gelu_new} in Hugging Face transformers, torch's {@code
   * approximate="tanh"}): {@code 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))}.
   */
  TANH,
  /** The exact form through the error function: {@code 0.5 * x * (1 + erf(x / sqrt(2)))}. */
  EXACT
}
