package dev.jbond.onnx.ort;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import dev.jbond.internal.Checks;
import dev.jbond.onnx.graph.ElementType;
import dev.jbond.onnx.graph.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Copies between jbond's {@link Tensor} and ONNX Runtime's {@link OnnxTensor}. Tensors created here
 * are backed by a direct buffer that ONNX Runtime reads in place; the caller closes them.
 */
public final class OrtTensors {
  private OrtTensors() {}

  /**
   * Returns an ONNX Runtime tensor holding a copy of {@code tensor}.
   *
   * @param environment the environment
   * @param tensor the data
   * @return a new tensor; the caller closes it
   * @throws IllegalArgumentException when ONNX Runtime's Java API cannot create tensors of its
   *     element type (UINT16, UINT32, UINT64, complex and float8 types)
   * @throws dev.jbond.BackendException when ONNX Runtime fails
   */
  public static OnnxTensor toOnnx(OrtEnvironment environment, Tensor tensor) {
    OnnxJavaType javaType = javaType(tensor.elementType());
    Checks.verify(
        ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN,
        "Expected a little-endian platform, found %s",
        ByteOrder.nativeOrder());
    ByteBuffer direct = ByteBuffer.allocateDirect(tensor.byteSize()).order(ByteOrder.nativeOrder());
    direct.put(tensor.asReadOnlyBuffer()).flip();
    try {
      return OnnxTensor.createTensor(environment, direct, tensor.shape(), javaType);
    } catch (OrtException e) {
      throw OrtFailures.wrap(e, "create a tensor " + tensor.type());
    }
  }

  /**
   * Returns a copy of an ONNX Runtime tensor.
   *
   * @param value a tensor value
   * @param name the value's name, for messages
   * @return the copy
   * @throws IllegalArgumentException when the value is not a numeric tensor of a supported type
   */
  public static Tensor fromOnnx(OnnxValue value, String name) {
    Checks.checkArgument(
        value instanceof OnnxTensor, "Expected a tensor for '%s', found %s", name, value.getType());
    OnnxTensor tensor = (OnnxTensor) value;
    TensorInfo info = tensor.getInfo();
    Checks.checkArgument(
        info.onnxType != TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING,
        "Expected a numeric tensor for '%s', found STRING",
        name);
    ElementType type = elementType(info.onnxType, name);
    ByteBuffer bytes = tensor.getByteBuffer();
    return Tensor.of(type, info.getShape(), bytes.order(ByteOrder.LITTLE_ENDIAN));
  }

  /**
   * Returns the element type of an ONNX Runtime tensor type (whose Java {@code value} numbers are
   * not ONNX's codes, so the mapping goes by name).
   *
   * @param type ONNX Runtime's type
   * @param name the value's name, for messages
   * @return the element type
   * @throws IllegalArgumentException when jbond has no such element type
   */
  public static ElementType elementType(TensorInfo.OnnxTensorType type, String name) {
    String prefix = "ONNX_TENSOR_ELEMENT_DATA_TYPE_";
    String typeName = type.name().startsWith(prefix) ? type.name().substring(prefix.length()) : "";
    try {
      return ElementType.valueOf(typeName);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "Expected a supported element type for '" + name + "', found " + type, e);
    }
  }

  /**
   * Returns the ONNX Runtime Java type for an element type.
   *
   * @param type the element type
   * @return the Java type
   * @throws IllegalArgumentException when ONNX Runtime's Java API has none
   */
  static OnnxJavaType javaType(ElementType type) {
    return switch (type) {
      case FLOAT -> OnnxJavaType.FLOAT;
      case DOUBLE -> OnnxJavaType.DOUBLE;
      case INT8 -> OnnxJavaType.INT8;
      case UINT8 -> OnnxJavaType.UINT8;
      case INT16 -> OnnxJavaType.INT16;
      case INT32 -> OnnxJavaType.INT32;
      case INT64 -> OnnxJavaType.INT64;
      case BOOL -> OnnxJavaType.BOOL;
      case FLOAT16 -> OnnxJavaType.FLOAT16;
      case BFLOAT16 -> OnnxJavaType.BFLOAT16;
      default ->
          throw new IllegalArgumentException(
              "Expected an element type that ONNX Runtime's Java API can create (FLOAT, DOUBLE, INT8,"
                  + " UINT8, INT16, INT32, INT64, BOOL, FLOAT16, BFLOAT16), found "
                  + type);
    };
  }
}
