package dev.jbond.onnx.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import dev.jbond.onnx.proto.StringStringEntryProto;
import dev.jbond.onnx.proto.TensorProto;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TensorTest {
  @Test
  void floats_roundTripThroughProto_keepsValuesAndName() {
    Random random = new Random(11);
    float[] values = new float[12];
    for (int i = 0; i < values.length; i++) {
      values[i] = random.nextFloat() - 0.5f;
    }
    Tensor tensor = Tensor.floats(new long[] {3, 4}, values);

    TensorProto proto = tensor.toProto("w");
    Tensor back = Tensor.fromProto(proto);

    assertEquals("w", proto.getName());
    assertEquals(48, proto.getRawData().size());
    assertEquals(tensor, back);
    assertArrayEquals(values, back.toFloatArray());
    assertArrayEquals(new long[] {3, 4}, back.shape());
  }

  @Test
  void fromProto_typedFields_equalRawData() {
    TensorProto floats =
        TensorProto.newBuilder()
            .addDims(2)
            .setDataType(1)
            .addFloatData(1.5f)
            .addFloatData(-2f)
            .build();
    TensorProto longs =
        TensorProto.newBuilder().addDims(2).setDataType(7).addInt64Data(3).addInt64Data(-4).build();
    TensorProto bools =
        TensorProto.newBuilder()
            .addDims(3)
            .setDataType(9)
            .addInt32Data(1)
            .addInt32Data(0)
            .addInt32Data(1)
            .build();
    TensorProto doubles = TensorProto.newBuilder().setDataType(11).addDoubleData(0.25).build();
    TensorProto int8 =
        TensorProto.newBuilder().addDims(2).setDataType(3).addInt32Data(-3).addInt32Data(7).build();
    TensorProto uint32 =
        TensorProto.newBuilder().addDims(1).setDataType(12).addUint64Data(4_000_000_000L).build();

    assertEquals(Tensor.floatVector(1.5f, -2f), Tensor.fromProto(floats));
    assertEquals(Tensor.longVector(3, -4), Tensor.fromProto(longs));
    assertEquals(Tensor.booleans(new long[] {3}, true, false, true), Tensor.fromProto(bools));
    assertEquals(Tensor.doubleScalar(0.25), Tensor.fromProto(doubles));
    assertArrayEquals(new long[] {-3, 7}, Tensor.fromProto(int8).toLongValues());
    assertArrayEquals(new long[] {4_000_000_000L}, Tensor.fromProto(uint32).toLongValues());
  }

  @Test
  void fromProto_rawDataOfWrongLength_failsWithSizes() {
    TensorProto proto =
        TensorProto.newBuilder()
            .setName("w")
            .addDims(2)
            .addDims(3)
            .setDataType(1)
            .setRawData(ByteString.copyFrom(new byte[20]))
            .build();

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Tensor.fromProto(proto));

    assertEquals("Expected 24 bytes of data for tensor 'w' FLOAT [2, 3], found 20", e.getMessage());
  }

  @Test
  void fromProto_externalData_failsPointingToModelFiles() {
    TensorProto proto =
        TensorProto.newBuilder()
            .setName("w")
            .addDims(2)
            .setDataType(1)
            .setDataLocation(TensorProto.DataLocation.EXTERNAL)
            .addExternalData(
                StringStringEntryProto.newBuilder().setKey("location").setValue("w.bin"))
            .build();

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Tensor.fromProto(proto));

    assertEquals(
        "Expected inline data for tensor 'w', found external data [location=w.bin]; resolve it"
            + " first with ModelFiles.read",
        e.getMessage());
  }

  @Test
  void floats_wrongValueCount_fails() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> Tensor.floats(new long[] {2, 2}, 1, 2, 3));

    assertEquals("Expected 4 values for a FLOAT tensor of shape [2, 2], found 3", e.getMessage());
  }

  @Test
  void toLongArray_floatTensor_failsNamingTypes() {
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> Tensor.floatScalar(1).toLongArray());

    assertEquals("Expected a INT64 tensor, found FLOAT []", e.getMessage());
  }

  @Test
  void zeros_emptyDimension_hasNoElements() {
    Tensor empty = Tensor.zeros(ElementType.INT64, 0, 3);

    assertEquals(0, empty.elementCount());
    assertEquals(0, empty.byteSize());
    assertEquals(empty, Tensor.fromProto(empty.toProto("e")));
  }

  @Test
  void elementType_fromCode_rejectsStringAndUnknown() {
    assertEquals(ElementType.BFLOAT16, ElementType.fromCode(16));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ElementType.fromCode(8));
    assertEquals(
        "Expected a supported ONNX element type code (1-7, 9-20), found 8", e.getMessage());
  }
}
