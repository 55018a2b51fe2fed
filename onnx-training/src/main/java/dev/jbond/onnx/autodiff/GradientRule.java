package dev.jbond.onnx.autodiff;

import dev.jbond.onnx.graph.Node;
import dev.jbond.onnx.graph.Value;
import java.util.List;

/** The reverse-mode rule of one ONNX operator. */
interface GradientRule {
  /**
   * Whether input {@code index} of {@code node} can carry a gradient (integer paths, masks, shapes
   * and indices cannot).
   */
  boolean differentiable(Node node, int index);

  /**
   * Emits the gradients of the node's inputs into {@code b} ({@link Backward#accumulate}).
   *
   * @param dy the gradient of each output, null where none flowed
   */
  void apply(Backward b, Node node, List<Value> dy);
}
