package dev.jbond.onnx.testing;

import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Tensor;
import dev.jbond.onnx.proto.AttributeProto;
import dev.jbond.onnx.proto.GraphProto;
import dev.jbond.onnx.proto.ModelProto;
import dev.jbond.onnx.proto.NodeProto;
import dev.jbond.onnx.proto.TensorProto;
import dev.jbond.onnx.proto.TypeProto;
import dev.jbond.onnx.proto.ValueInfoProto;

/**
 * Rewrites a FLOAT model as a DOUBLE one (initializers, constants, casts, inputs and outputs), so
 * that finite-difference gradient checks of whole models are not drowned in float32 rounding.
 */
public final class DoublePrecision {
  private static final int FLOAT = ElementType.FLOAT.code();
  private static final int DOUBLE = ElementType.DOUBLE.code();

  private DoublePrecision() {}

  /**
   * Returns the model with every FLOAT tensor, type and cast turned into DOUBLE.
   *
   * @param model a model
   * @return the converted model
   */
  public static ModelProto convert(ModelProto model) {
    return model.toBuilder().setGraph(convert(model.getGraph())).build();
  }

  private static GraphProto convert(GraphProto g) {
    GraphProto.Builder b = g.toBuilder();
    for (int i = 0; i < b.getInitializerCount(); i++) {
      b.setInitializer(i, convert(b.getInitializer(i)));
    }
    for (int i = 0; i < b.getNodeCount(); i++) {
      b.setNode(i, convert(b.getNode(i)));
    }
    for (int i = 0; i < b.getInputCount(); i++) {
      b.setInput(i, convert(b.getInput(i)));
    }
    for (int i = 0; i < b.getOutputCount(); i++) {
      b.setOutput(i, convert(b.getOutput(i)));
    }
    for (int i = 0; i < b.getValueInfoCount(); i++) {
      b.setValueInfo(i, convert(b.getValueInfo(i)));
    }
    return b.build();
  }

  private static TensorProto convert(TensorProto t) {
    if (t.getDataType() != FLOAT) {
      return t;
    }
    Tensor tensor = Tensor.fromProto(t);
    float[] f = tensor.toFloatArray();
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return Tensor.doubles(tensor.shape(), d).toProto(t.getName());
  }

  private static NodeProto convert(NodeProto n) {
    NodeProto.Builder b = n.toBuilder();
    for (int i = 0; i < b.getAttributeCount(); i++) {
      AttributeProto a = b.getAttribute(i);
      if (a.hasT()) {
        b.setAttribute(i, a.toBuilder().setT(convert(a.getT())));
      } else if (n.getOpType().equals("Cast") && a.getName().equals("to") && a.getI() == FLOAT) {
        b.setAttribute(i, a.toBuilder().setI(DOUBLE));
      } else if (n.getOpType().equals("Constant") && a.getName().equals("value_float")) {
        b.setAttribute(
            i,
            AttributeProto.newBuilder()
                .setName("value")
                .setType(AttributeProto.AttributeType.TENSOR)
                .setT(Tensor.doubleScalar(a.getF()).toProto("")));
      }
    }
    return b.build();
  }

  private static ValueInfoProto convert(ValueInfoProto v) {
    if (!v.hasType() || !v.getType().hasTensorType()) {
      return v;
    }
    TypeProto.Tensor tt = v.getType().getTensorType();
    if (tt.getElemType() != FLOAT) {
      return v;
    }
    return v.toBuilder()
        .setType(v.getType().toBuilder().setTensorType(tt.toBuilder().setElemType(DOUBLE)))
        .build();
  }
}
