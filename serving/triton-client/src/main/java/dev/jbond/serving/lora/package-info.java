/**
 * LoRA adapters as TensorRT-LLM's Triton backend takes them with each request: {@link
 * dev.jbond.serving.lora.LoraModule} (target modules and their ids), {@link
 * dev.jbond.serving.lora.LoraAdapter} (one module's A and B in one layer) and {@link
 * dev.jbond.serving.lora.LoraTensors} (the {@code lora_task_id}, {@code lora_weights} and {@code
 * lora_config} inputs, byte for byte as the backend reads them).
 */
package dev.jbond.serving.lora;
