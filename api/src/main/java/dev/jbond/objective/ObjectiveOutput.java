package dev.jbond.objective;

import dev.jbond.spi.WeightedSequence;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The weights an objective assigns for one step, and the values of its loss terms.
 *
 * <p>The loss terms are the per-prompt means of the surrogate losses whose gradients the weights
 * produce (for J-BOND: {@code L_fw = -log pi(best)}, {@code L_bw = -(R - B) log pi(y)}, {@code
 * L_reg = sg(log pi - log pi_anchor) log pi(y)}); {@code loss} is their weighted sum, which equals
 * {@code sum_s w_s log pi(s)}.
 *
 * @param batch the weighted sequences to train on, not empty
 * @param lossForward the forward-KL term (NaN when its log-probabilities were not computed)
 * @param lossBackward the backward-KL (policy-gradient) term
 * @param lossRegularizer the extra regularisation term
 * @param loss the total loss
 * @param extras objective-specific diagnostics, e.g. the mean log quantile
 */
public record ObjectiveOutput(
    List<WeightedSequence> batch,
    double lossForward,
    double lossBackward,
    double lossRegularizer,
    double loss,
    Map<String, Double> extras) {
  /**
   * Copies the collections.
   *
   * @param batch see the record description
   * @param lossForward see the record description
   * @param lossBackward see the record description
   * @param lossRegularizer see the record description
   * @param loss see the record description
   * @param extras see the record description
   */
  public ObjectiveOutput {
    batch = List.copyOf(batch);
    extras = Collections.unmodifiableMap(new TreeMap<>(extras));
  }
}
