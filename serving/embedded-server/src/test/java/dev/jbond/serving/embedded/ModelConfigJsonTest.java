package dev.jbond.serving.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.TextFormat;
import dev.jbond.serving.triton.proto.ModelConfig;
import org.junit.jupiter.api.Test;

/** The JSON form of ModelConfig that RepositoryModelLoad's {@code config} parameter carries. */
class ModelConfigJsonTest {
  @Test
  void parse_protoAndJsonNames_enumsAnyCase_int64AsStrings_maps() throws Exception {
    ModelConfig parsed =
        ModelConfigJson.parse(
            """
            {"name": "policy", "backend": "jbond-generate", "maxBatchSize": 4,
             "version_policy": {"specific": {"versions": ["2", 3]}},
             "input": [{"name": "input_ids", "data_type": "type_int32", "dims": [-1],
                        "reshape": null}],
             "output": [{"name": "output_ids", "dataType": "TYPE_INT32", "dims": ["-1", "-1"]}],
             "instance_group": [{"count": 2, "kind": "KIND_CPU"}],
             "dynamic_batching": {"max_queue_delay_microseconds": "100",
                                  "priority_queue_policy": {"1": {"max_queue_size": 3}}},
             "model_transaction_policy": {"decoupled": true},
             "parameters": {"gpt_model_path": {"string_value": "/engines/7"}}}
            """);
    ModelConfig.Builder expected = ModelConfig.newBuilder();
    TextFormat.merge(
        """
        name: "policy" backend: "jbond-generate" max_batch_size: 4
        version_policy { specific { versions: [2, 3] } }
        input { name: "input_ids" data_type: TYPE_INT32 dims: [-1] }
        output { name: "output_ids" data_type: TYPE_INT32 dims: [-1, -1] }
        instance_group { count: 2 kind: KIND_CPU }
        dynamic_batching {
          max_queue_delay_microseconds: 100
          priority_queue_policy { key: 1 value { max_queue_size: 3 } }
        }
        model_transaction_policy { decoupled: true }
        parameters { key: "gpt_model_path" value { string_value: "/engines/7" } }
        """,
        expected);

    assertEquals(expected.build(), parsed);
  }

  @Test
  void parse_mistakes_failNamingThePath() {
    String[][] cases = {
      {
        "{\"input\": [{\"name\": \"x\", \"datatype\": \"INT32\"}]}",
        "Unknown field 'config.input[0].datatype' in the JSON model configuration, expected one of"
            + " [name, data_type, format, dims, reshape, is_shape_tensor, allow_ragged_batch,"
            + " optional, is_non_linear_format_io] for ModelInput"
      },
      {
        "{\"input\": [{\"data_type\": \"INT32\"}]}",
        "Expected one of [TYPE_INVALID, TYPE_BOOL, TYPE_UINT8, TYPE_UINT16, TYPE_UINT32,"
            + " TYPE_UINT64, TYPE_INT8, TYPE_INT16, TYPE_INT32, TYPE_INT64, TYPE_FP16, TYPE_FP32,"
            + " TYPE_FP64, TYPE_STRING, TYPE_BF16] at 'config.input[0].data_type' of the JSON model"
            + " configuration, found \"INT32\""
      },
      {
        "{\"max_batch_size\": \"many\"}",
        "Expected an integer at 'config.max_batch_size' of the JSON model configuration, found"
            + " \"many\""
      },
      {
        "{\"max_batch_size\": 3000000000}",
        "Expected an integer of type int32 at 'config.max_batch_size' of the JSON model configuration, found"
            + " 3000000000"
      },
      {
        "{\"input\": {\"name\": \"x\"}}",
        "Expected an array at 'config.input' of the JSON model configuration, found"
            + " {\"name\":\"x\"}"
      },
      {"[1]", "Expected '{' at position 0, found '['"},
    };
    for (String[] c : cases) {
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> ModelConfigJson.parse(c[0]));
      assertEquals(c[1], e.getMessage());
    }
  }
}
