/**
 * Tests of the generated ONNX IR classes: torch-exported models parse without unknown fields and
 * serialise back to identical bytes.
 */
package dev.jbond.onnx.proto;
