/**
 * LoRA adapters as TensorRT-LLM's Triton backend takes them with each request: {@link
 * dev.jbond.serving.lora.LoraTensors} (the {@code lora_task_id}, {@code lora_weights} and {@code
 * lora_config} inputs, byte for byte as the backend reads them) of {@link
 * dev.jbond.onnx.lora.LoraAdapter}s.
 */
package dev.jbond.serving.lora;
