/**
 * Low-rank adapters (LoRA) on ONNX policies: the TensorRT-LLM target modules ({@link
 * dev.jbond.onnx.lora.LoraModule}), where they sit in a graph ({@link
 * dev.jbond.onnx.lora.LoraTargets}), the adapter branch inserted at each ({@link
 * dev.jbond.onnx.lora.LoraGraphs}), the adapters' values ({@link dev.jbond.onnx.lora.LoraAdapter})
 * and the trained policy ({@link dev.jbond.onnx.lora.LoraPolicy}).
 */
package dev.jbond.onnx.lora;
