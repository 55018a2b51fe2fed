package dev.jbond.onnx.graph;

import dev.jbond.onnx.proto.TensorShapeProto;
import dev.jbond.onnx.proto.TypeProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Conversions between {@link TensorType} and ONNX's {@code TypeProto}. */
final class TypeProtos {
  private TypeProtos() {}

  static TypeProto toProto(TensorType type) {
    TypeProto.Tensor.Builder tensor =
        TypeProto.Tensor.newBuilder().setElemType(type.elementType().code());
    if (type.shape().isRankKnown()) {
      TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
      for (Dim dim : type.shape().dims()) {
        TensorShapeProto.Dimension.Builder d = TensorShapeProto.Dimension.newBuilder();
        if (dim instanceof Dim.Fixed fixed) {
          d.setDimValue(fixed.size());
        } else if (dim instanceof Dim.Symbolic symbolic) {
          d.setDimParam(symbolic.name());
        }
        shape.addDim(d);
      }
      tensor.setShape(shape);
    }
    return TypeProto.newBuilder().setTensorType(tensor).build();
  }

  /** Returns the tensor type described by {@code type}, or empty for other kinds and types. */
  static Optional<TensorType> parse(TypeProto type) {
    if (!type.hasTensorType() || !type.getTensorType().hasElemType()) {
      return Optional.empty();
    }
    TypeProto.Tensor tensor = type.getTensorType();
    ElementType elementType;
    try {
      elementType = ElementType.fromCode(tensor.getElemType());
    } catch (IllegalArgumentException unsupported) {
      return Optional.empty();
    }
    if (!tensor.hasShape()) {
      return Optional.of(TensorType.unknownShape(elementType));
    }
    List<Dim> dims = new ArrayList<>();
    for (TensorShapeProto.Dimension d : tensor.getShape().getDimList()) {
      if (d.hasDimValue() && d.getDimValue() >= 0) {
        dims.add(Dim.of(d.getDimValue()));
      } else if (d.hasDimParam() && !d.getDimParam().isEmpty()) {
        dims.add(Dim.symbolic(d.getDimParam()));
      } else {
        dims.add(Dim.unknown());
      }
    }
    return Optional.of(new TensorType(elementType, Shape.of(dims)));
  }
}
