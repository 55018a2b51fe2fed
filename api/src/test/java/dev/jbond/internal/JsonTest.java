package dev.jbond.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class JsonTest {
  @Test
  void write_nestedValues_producesCompactJsonInIterationOrder() {
    Map<String, Object> value = new LinkedHashMap<>();
    value.put("z", 1L);
    value.put("a", List.of(true, false, "x"));
    value.put("n", null);
    value.put("d", 0.5);
    value.put("i", 7);
    value.put("o", Map.of());

    assertEquals(
        "{\"z\":1,\"a\":[true,false,\"x\"],\"n\":null,\"d\":0.5,\"i\":7,\"o\":{}}",
        Json.write(value));
  }

  @Test
  void write_nonFiniteNumbers_writesNull() {
    assertEquals(
        "[null,null,null,null]",
        Json.write(
            Arrays.asList(
                Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Float.NaN)));
  }

  @Test
  void write_doubles_parseBackToTheSameValue() {
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < 1000; i++) {
      double value = Double.longBitsToDouble(random.nextLong());
      if (!Double.isFinite(value)) {
        continue;
      }
      assertEquals(value, (Double) Json.parse(Json.write(value)), 0.0);
    }
    assertEquals(1e-300, (Double) Json.parse(Json.write(1e-300)), 0.0);
    assertEquals(-0.0, (Double) Json.parse(Json.write(-0.0)), 0.0);
  }

  @Test
  void writeString_specialCharacters_escapesThem() {
    StringBuilder out = new StringBuilder();
    Json.writeString(out, "a\"b\\c\nd\re\tf\bg\fh\u0001i\u001fj/");

    assertEquals("\"a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh\\u0001i\\u001fj/\"", out.toString());
  }

  @Test
  void writeString_unpairedSurrogate_escapesItAndKeepsPairs() {
    StringBuilder out = new StringBuilder();
    Json.writeString(out, "\ud83d\ude00 \ud83d x \ude00");

    assertEquals("\"\ud83d\ude00 \\ud83d x \\ude00\"", out.toString());
  }

  @Test
  void parse_writtenRandomStrings_roundTrips() {
    SplittableRandom random = new SplittableRandom(42);
    for (int i = 0; i < 500; i++) {
      char[] chars = new char[random.nextInt(20)];
      for (int j = 0; j < chars.length; j++) {
        chars[j] = (char) (random.nextBoolean() ? random.nextInt(0x80) : random.nextInt(0xd800));
      }
      String text = new String(chars);

      assertEquals(text, Json.parse(Json.write(text)));
    }
  }

  @Test
  void parse_escapes_decodesThem() {
    assertEquals(
        "\"\\/\b\f\n\r\t\u00e9\u20ac", Json.parse("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC\""));
  }

  @Test
  void parse_nestedDocument_returnsMapsListsAndScalars() {
    Object parsed =
        Json.parse(" { \"a\" : [1, -2.5, 1e3, true, false, null, \"s\"], \"b\": {\"c\": {}} } ");

    Map<String, Object> expected = new LinkedHashMap<>();
    List<Object> array = new ArrayList<>(List.of(1L, -2.5, 1000.0, true, false));
    array.add(null);
    array.add("s");
    expected.put("a", array);
    expected.put("b", Map.of("c", Map.of()));
    assertEquals(expected, parsed);
  }

  @Test
  void parse_numbers_integersAsLongOthersAsDouble() {
    assertEquals(0L, Json.parse("0"));
    assertEquals(-12L, Json.parse("-12"));
    assertEquals(Long.MAX_VALUE, Json.parse("9223372036854775807"));
    assertEquals(9.223372036854775808e18, Json.parse("9223372036854775808"));
    assertEquals(1.5e3, Json.parse("1.5e3"));
    assertEquals(1e-5, Json.parse("1E-5"));
    assertEquals(-0.0, Json.parse("-0.0"));
    assertNull(Json.parse("null"));
  }

  @Test
  void parse_missingComma_throwsNamingThePosition() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\":1 x}"));
    assertEquals("Expected ',' or '}' at position 7, found 'x'", e.getMessage());
  }

  @Test
  void parse_malformedInputs_throwWithPositionAndFound() {
    assertParseError("", "Expected a JSON value at position 0, found end of input");
    assertParseError("[1,]", "Expected a JSON value at position 3, found ']'");
    assertParseError("[1 2]", "Expected ',' or ']' at position 3, found '2'");
    assertParseError("01", "Expected end of input at position 1, found '1'");
    assertParseError("{} {}", "Expected end of input at position 3, found '{'");
    assertParseError("-", "Expected a digit at position 1, found end of input");
    assertParseError("1.", "Expected a digit at position 2, found end of input");
    assertParseError("1e+", "Expected a digit at position 3, found end of input");
    assertParseError("tru", "Expected 'true' at position 3, found end of input");
    assertParseError("nul1", "Expected 'null' at position 3, found '1'");
    assertParseError("{1:2}", "Expected '\"' (a member name) at position 1, found '1'");
    assertParseError("{\"a\" 1}", "Expected ':' at position 5, found '1'");
    assertParseError("\"abc", "Expected '\"' (end of string) at position 4, found end of input");
    assertParseError(
        "\"\\x\"", "Expected an escape character (\"\\/bfnrtu) at position 2, found 'x'");
    assertParseError("\"\\u12g4\"", "Expected a hexadecimal digit at position 5, found 'g'");
    assertParseError(
        "\"a\nb\"", "Expected an escaped control character at position 2, found '\\u000a'");
    assertParseError("NaN", "Expected a JSON value at position 0, found 'N'");
  }

  @Test
  void parse_duplicateMember_throws() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\":1,\"a\":2}"));
    assertEquals("Expected unique member names, found duplicate 'a' at position 7", e.getMessage());
  }

  @Test
  void parse_tooDeeplyNested_throwsInsteadOfOverflowingTheStack() {
    String deep = "[".repeat(Json.MAX_DEPTH + 1) + "]".repeat(Json.MAX_DEPTH + 1);

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Json.parse(deep));
    assertEquals("Expected nesting depth <= 512 at position 512, found deeper", e.getMessage());
  }

  @Test
  void parse_maximalNesting_parses() {
    String deep = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);

    Object parsed = Json.parse(deep);
    for (int i = 1; i < Json.MAX_DEPTH; i++) {
      parsed = ((List<?>) parsed).get(0);
    }
    assertEquals(List.of(), parsed);
  }

  @Test
  void parseObject_array_throws() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Json.parseObject(" [1]"));
    assertEquals("Expected '{' at position 1, found '['", e.getMessage());
  }

  @Test
  void write_unsupportedValue_throws() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Json.write(List.of(new Object())));
    assertEquals(
        "Expected a JSON value (Map, List, String, Boolean, Long, Integer, Double or null), found"
            + " java.lang.Object",
        e.getMessage());
  }

  @Test
  void write_nonStringKey_throws() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Json.write(Map.of(1, 2)));
    assertEquals("Expected String keys in a JSON object, found java.lang.Integer", e.getMessage());
  }

  private static void assertParseError(String text, String message) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Json.parse(text), text);
    assertEquals(message, e.getMessage(), text);
  }
}
