package dev.jbond.reference;

/** Numerically stable softmax over a slice of a logit vector. */
final class Softmax {
  private Softmax() {}

  static double[] probabilities(double[] logits, int offset, int length) {
    double max = Double.NEGATIVE_INFINITY;
    for (int k = 0; k < length; k++) {
      max = Math.max(max, logits[offset + k]);
    }
    double[] p = new double[length];
    double sum = 0;
    for (int k = 0; k < length; k++) {
      p[k] = Math.exp(logits[offset + k] - max);
      sum += p[k];
    }
    for (int k = 0; k < length; k++) {
      p[k] /= sum;
    }
    return p;
  }

  static double[] logProbabilities(double[] logits, int offset, int length) {
    double max = Double.NEGATIVE_INFINITY;
    for (int k = 0; k < length; k++) {
      max = Math.max(max, logits[offset + k]);
    }
    double sum = 0;
    for (int k = 0; k < length; k++) {
      sum += Math.exp(logits[offset + k] - max);
    }
    double lse = max + Math.log(sum);
    double[] lp = new double[length];
    for (int k = 0; k < length; k++) {
      lp[k] = logits[offset + k] - lse;
    }
    return lp;
  }
}
