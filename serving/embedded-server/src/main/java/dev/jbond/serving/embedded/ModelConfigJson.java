package dev.jbond.serving.embedded;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import dev.jbond.internal.Json;
import dev.jbond.serving.triton.proto.ModelConfig;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads the {@code "config"} parameter of RepositoryModelLoad: protobuf's JSON mapping of {@link
 * ModelConfig}, as strict as Triton's parser ({@code ignore_unknown_fields = false}).
 *
 * <p>Fields are named by their proto name ({@code max_batch_size}) or JSON name ({@code
 * maxBatchSize}); enums by value name, case-insensitively ({@code "TYPE_INT64"}, {@code
 * "type_int64"}), or number; 64-bit integers by number or decimal string; maps by JSON objects
 * whose keys are strings; {@code null} leaves a field unset. Anything else, including a field that
 * our {@link ModelConfig} subset does not declare, is an error naming the JSON path.
 */
final class ModelConfigJson {
  private ModelConfigJson() {}

  /**
   * Parses a JSON model configuration.
   *
   * @param json the JSON text
   * @return the configuration
   * @throws IllegalArgumentException when the text is not JSON, or names a field, enum value or
   *     type that {@link ModelConfig} does not have; the message names the JSON path
   */
  static ModelConfig parse(String json) {
    Map<String, Object> object = Json.parseObject(json);
    ModelConfig.Builder builder = ModelConfig.newBuilder();
    merge(builder, object, "config");
    return builder.build();
  }

  private static void merge(Message.Builder builder, Map<String, Object> object, String path) {
    Descriptor type = builder.getDescriptorForType();
    for (Map.Entry<String, Object> entry : object.entrySet()) {
      String key = entry.getKey();
      FieldDescriptor field = type.findFieldByName(key);
      if (field == null) {
        for (FieldDescriptor candidate : type.getFields()) {
          if (candidate.getJsonName().equals(key)) {
            field = candidate;
          }
        }
      }
      String fieldPath = path + "." + key;
      if (field == null) {
        List<String> names = new ArrayList<>();
        for (FieldDescriptor candidate : type.getFields()) {
          names.add(candidate.getName());
        }
        throw new IllegalArgumentException(
            "Unknown field '"
                + fieldPath
                + "' in the JSON model configuration, expected one of "
                + names
                + " for "
                + type.getName());
      }
      Object value = entry.getValue();
      if (value == null) {
        continue;
      }
      if (field.isMapField()) {
        Map<String, Object> map = asObject(value, fieldPath);
        Descriptor entryType = field.getMessageType();
        FieldDescriptor keyField = entryType.findFieldByName("key");
        FieldDescriptor valueField = entryType.findFieldByName("value");
        for (Map.Entry<String, Object> item : map.entrySet()) {
          String itemPath = fieldPath + "." + item.getKey();
          Message.Builder mapEntry = builder.newBuilderForField(field);
          mapEntry.setField(keyField, mapKey(keyField, item.getKey(), itemPath));
          mapEntry.setField(valueField, scalar(mapEntry, valueField, item.getValue(), itemPath));
          builder.addRepeatedField(field, mapEntry.build());
        }
      } else if (field.isRepeated()) {
        if (!(value instanceof List<?> list)) {
          throw typeError(fieldPath, "an array", value);
        }
        for (int i = 0; i < list.size(); i++) {
          builder.addRepeatedField(
              field, scalar(builder, field, list.get(i), fieldPath + "[" + i + "]"));
        }
      } else {
        builder.setField(field, scalar(builder, field, value, fieldPath));
      }
    }
  }

  private static Object scalar(
      Message.Builder parent, FieldDescriptor field, Object value, String path) {
    if (value == null) {
      throw typeError(path, "a value", null);
    }
    return switch (field.getJavaType()) {
      case MESSAGE -> {
        Message.Builder child = parent.newBuilderForField(field);
        merge(child, asObject(value, path), path);
        yield child.build();
      }
      case STRING -> {
        if (!(value instanceof String text)) {
          throw typeError(path, "a string", value);
        }
        yield text;
      }
      case BOOLEAN -> {
        if (!(value instanceof Boolean bool)) {
          throw typeError(path, "true or false", value);
        }
        yield bool;
      }
      case INT -> (int) integer(value, path, field.getType());
      case LONG -> integer(value, path, field.getType());
      case FLOAT -> (float) number(value, path);
      case DOUBLE -> number(value, path);
      case BYTE_STRING -> {
        if (!(value instanceof String text)) {
          throw typeError(path, "a base64 string", value);
        }
        try {
          yield ByteString.copyFrom(Base64.getDecoder().decode(text));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(
              "Expected base64 at '" + path + "' of the JSON model configuration", e);
        }
      }
      case ENUM -> enumValue(field, value, path);
    };
  }

  private static EnumValueDescriptor enumValue(FieldDescriptor field, Object value, String path) {
    if (value instanceof Long number) {
      EnumValueDescriptor found = field.getEnumType().findValueByNumber(number.intValue());
      if (found != null && found.getNumber() == number) {
        return found;
      }
    } else if (value instanceof String name) {
      for (EnumValueDescriptor candidate : field.getEnumType().getValues()) {
        if (candidate.getName().equalsIgnoreCase(name)) {
          return candidate;
        }
      }
    }
    List<String> names = new ArrayList<>();
    for (EnumValueDescriptor candidate : field.getEnumType().getValues()) {
      names.add(candidate.getName());
    }
    throw new IllegalArgumentException(
        "Expected one of "
            + names
            + " at '"
            + path
            + "' of the JSON model configuration, found "
            + Json.write(value));
  }

  private static Object mapKey(FieldDescriptor keyField, String key, String path) {
    return switch (keyField.getJavaType()) {
      case STRING -> key;
      case BOOLEAN -> {
        if (!key.equals("true") && !key.equals("false")) {
          throw typeError(path, "a key 'true' or 'false'", key);
        }
        yield Boolean.parseBoolean(key);
      }
      case INT -> (int) integer(key, path, keyField.getType());
      case LONG -> integer(key, path, keyField.getType());
      default ->
          throw new IllegalArgumentException(
              "Unsupported map key type " + keyField.getJavaType() + " at '" + path + "'");
    };
  }

  private static long integer(Object value, String path, FieldDescriptor.Type type) {
    long result;
    if (value instanceof Long number) {
      result = number;
    } else if (value instanceof String text) {
      try {
        result =
            type == FieldDescriptor.Type.UINT64 || type == FieldDescriptor.Type.FIXED64
                ? Long.parseUnsignedLong(text)
                : Long.parseLong(text);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "Expected an integer at '"
                + path
                + "' of the JSON model configuration, found \""
                + text
                + "\"",
            e);
      }
    } else {
      throw typeError(path, "an integer", value);
    }
    boolean unsigned =
        switch (type) {
          case UINT32, FIXED32, UINT64, FIXED64 -> true;
          default -> false;
        };
    boolean narrow =
        switch (type) {
          case INT32, SINT32, SFIXED32, UINT32, FIXED32 -> true;
          default -> false;
        };
    boolean fits =
        narrow
            ? (unsigned ? result >= 0 && result <= 0xffffffffL : result == (int) result)
            : (!unsigned || result >= 0 || value instanceof String);
    if (!fits) {
      throw new IllegalArgumentException(
          "Expected an integer of type "
              + type.name().toLowerCase(Locale.ROOT)
              + " at '"
              + path
              + "' of the JSON model configuration, found "
              + value);
    }
    return result;
  }

  private static double number(Object value, String path) {
    if (value instanceof Long number) {
      return number;
    }
    if (value instanceof Double number) {
      return number;
    }
    throw typeError(path, "a number", value);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asObject(Object value, String path) {
    if (!(value instanceof Map<?, ?>)) {
      throw typeError(path, "an object", value);
    }
    return (Map<String, Object>) value;
  }

  private static IllegalArgumentException typeError(String path, String expected, Object found) {
    return new IllegalArgumentException(
        "Expected "
            + expected
            + " at '"
            + path
            + "' of the JSON model configuration, found "
            + (found == null ? "null" : Json.write(found)));
  }
}
