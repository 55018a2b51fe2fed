package dev.jbond.onnx.proto;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Message;
import dev.jbond.onnx.testing.TorchFixtures;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ModelProtoTest {
  @ParameterizedTest
  @ValueSource(ints = {14, 17})
  void parseFrom_torchExport_serializesToIdenticalBytes(int opset) throws Exception {
    byte[] original = Files.readAllBytes(TorchFixtures.model(opset));

    ModelProto model = ModelProto.parseFrom(original);

    assertArrayEquals(original, model.toByteArray());
  }

  @ParameterizedTest
  @ValueSource(ints = {14, 17})
  void parseFrom_torchExport_leavesNoUnknownFields(int opset) throws Exception {
    ModelProto model = ModelProto.parseFrom(Files.readAllBytes(TorchFixtures.model(opset)));

    List<String> unknown = new ArrayList<>();
    collectUnknownFields(model, "model", unknown);

    assertEquals(List.of(), unknown);
  }

  @ParameterizedTest
  @ValueSource(ints = {14, 17})
  void parseFrom_torchExport_readsGraphStructure(int opset) throws Exception {
    ModelProto model = ModelProto.parseFrom(Files.readAllBytes(TorchFixtures.model(opset)));
    GraphProto graph = model.getGraph();

    assertEquals(opset == 14 ? 7 : 8, model.getIrVersion());
    assertEquals("pytorch", model.getProducerName());
    assertEquals(opset, model.getOpsetImport(0).getVersion());
    assertEquals(
        List.of("input_ids", "attention_mask"),
        graph.getInputList().stream().map(ValueInfoProto::getName).toList());
    ValueInfoProto logits = graph.getOutput(0);
    assertEquals("logits", logits.getName());
    assertEquals(TensorProto.DataType.FLOAT_VALUE, logits.getType().getTensorType().getElemType());
    List<TensorShapeProto.Dimension> dims =
        logits.getType().getTensorType().getShape().getDimList();
    assertEquals("batch", dims.get(0).getDimParam());
    assertEquals("sequence", dims.get(1).getDimParam());
    assertEquals(64, dims.get(2).getDimValue());
    assertEquals(30, graph.getInitializerCount());
    TensorProto wte = graph.getInitializer(0);
    assertEquals("wte.weight", wte.getName());
    assertEquals(List.of(64L, 32L), wte.getDimsList());
    assertEquals(64 * 32 * 4, wte.getRawData().size());
    Map<String, Integer> ops = histogram(graph);
    assertTrue(ops.containsKey("Split") && ops.containsKey("Where") && ops.containsKey("Softmax"));
    assertEquals(opset == 17 ? 5 : 0, ops.getOrDefault("LayerNormalization", 0));
  }

  @Test
  void attributeType_numbers_matchOnnx() {
    assertEquals(4, AttributeProto.AttributeType.TENSOR_VALUE);
    assertEquals(7, AttributeProto.AttributeType.INTS_VALUE);
    assertEquals(11, AttributeProto.AttributeType.SPARSE_TENSOR_VALUE);
    assertEquals(13, AttributeProto.AttributeType.TYPE_PROTO_VALUE);
    assertEquals(16, TensorProto.DataType.BFLOAT16_VALUE);
    assertEquals(1, TensorProto.DataLocation.EXTERNAL_VALUE);
    assertEquals(8, Version.IR_VERSION_2021_7_30_VALUE);
  }

  private static Map<String, Integer> histogram(GraphProto graph) {
    Map<String, Integer> ops = new TreeMap<>();
    graph.getNodeList().forEach(n -> ops.merge(n.getOpType(), 1, Integer::sum));
    return ops;
  }

  private static void collectUnknownFields(Message message, String path, List<String> out) {
    if (!message.getUnknownFields().asMap().isEmpty()) {
      out.add(path + " " + message.getUnknownFields().asMap().keySet());
    }
    message
        .getAllFields()
        .forEach(
            (field, value) -> {
              if (value instanceof Message child) {
                collectUnknownFields(child, path + "." + field.getName(), out);
              } else if (value instanceof List<?> list) {
                for (int i = 0; i < list.size(); i++) {
                  if (list.get(i) instanceof Message child) {
                    collectUnknownFields(child, path + "." + field.getName() + "[" + i + "]", out);
                  }
                }
              }
            });
  }
}
