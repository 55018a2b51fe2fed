package dev.jbond.serving.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.TextFormat;
import dev.jbond.serving.TensorProfile;
import dev.jbond.serving.TrtLlmModelConfig;
import dev.jbond.serving.triton.TritonDatatype;
import dev.jbond.serving.triton.proto.DataType;
import dev.jbond.serving.triton.proto.ModelConfig;
import org.junit.jupiter.api.Test;

/**
 * The generation model configuration: its JSON rendering reads back through the server's strict
 * RepositoryModelLoad parser and its pbtxt through the text format, and a renamed profile renames
 * the configured tensors.
 */
class TrtLlmModelConfigTest {
  @Test
  void toJson_parsedByTheStrictLoadParser_equalsTheConfig() {
    ModelConfig config = TrtLlmModelConfig.config("gen", 16, true, TensorProfile.trtLlm());
    assertEquals(config, ModelConfigJson.parse(TrtLlmModelConfig.toJson(config)));
  }

  @Test
  void toPbtxt_parsedByTextFormat_equalsTheConfig() throws Exception {
    ModelConfig config = TrtLlmModelConfig.config("gen", 4, false, TensorProfile.trtLlm());
    ModelConfig.Builder parsed = ModelConfig.newBuilder();
    TextFormat.merge(TrtLlmModelConfig.toPbtxt(config), parsed);
    assertEquals(config, parsed.build());
  }

  @Test
  void config_renamedSeedInt64Tokens_namesAndTypesFollowTheProfile() {
    TensorProfile profile =
        TensorProfile.trtLlm()
            .withName(TensorProfile.Slot.SEED, "random_seed")
            .withTokenDatatype(TritonDatatype.INT64);
    ModelConfig config = TrtLlmModelConfig.config("gen", 4, false, profile);
    assertEquals(
        DataType.TYPE_UINT64,
        config.getInputList().stream()
            .filter(i -> i.getName().equals("random_seed"))
            .findFirst()
            .orElseThrow()
            .getDataType());
    assertEquals(DataType.TYPE_INT64, config.getInput(0).getDataType());
  }

  @Test
  void withName_duplicate_throws() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> TensorProfile.trtLlm().withName(TensorProfile.Slot.SEED, "input_ids"));
    assertTrue(e.getMessage().startsWith("Expected distinct tensor names, found"), e.getMessage());
  }
}
