package dev.jbond.objective;

import dev.jbond.PolicyRole;
import dev.jbond.internal.Checks;
import java.util.Objects;
import java.util.Set;

/**
 * What an objective needs the loop to sample and evaluate for each prompt of a step.
 *
 * @param policySamples completions drawn from the policy per prompt, {@code >= 1}
 * @param comparisonRole where comparison samples come from: {@link PolicyRole#ANCHOR} (J-BOND,
 *     iterative BOND) or {@link PolicyRole#REFERENCE} (BOND)
 * @param comparisonSamples comparison completions per prompt, {@code >= 0}
 * @param policyLogProbRoles the roles whose log-probabilities of the policy samples the weights
 *     need
 * @param comparisonPolicyLogProbs whether the policy's log-probabilities of the comparison samples
 *     are needed (to report the forward-KL loss term)
 */
public record SamplePlan(
    int policySamples,
    PolicyRole comparisonRole,
    int comparisonSamples,
    Set<PolicyRole> policyLogProbRoles,
    boolean comparisonPolicyLogProbs) {
  /**
   * Validates the plan.
   *
   * @param policySamples see the record description
   * @param comparisonRole see the record description
   * @param comparisonSamples see the record description
   * @param policyLogProbRoles see the record description
   * @param comparisonPolicyLogProbs see the record description
   * @throws IllegalArgumentException when a count is out of range or the comparison role is the
   *     policy
   */
  public SamplePlan {
    Checks.checkAtLeast(policySamples, 1, "policy samples per prompt");
    Checks.checkAtLeast(comparisonSamples, 0, "comparison samples per prompt");
    Objects.requireNonNull(comparisonRole, "comparisonRole");
    Checks.checkArgument(
        comparisonRole != PolicyRole.POLICY,
        "Expected comparison samples from the anchor or the reference, found %s",
        comparisonRole);
    policyLogProbRoles = Set.copyOf(policyLogProbRoles);
    Checks.checkArgument(
        policyLogProbRoles.contains(PolicyRole.POLICY),
        "Expected the policy's own log-probabilities in the plan, found %s",
        policyLogProbRoles);
  }
}
