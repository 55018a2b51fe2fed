/**
 * LoRA adapters as TensorRT-LLM's Triton backend and Hugging Face PEFT take them: {@link
 * dev.jbond.serving.lora.LoraTensors} (the {@code lora_task_id}, {@code lora_weights} and {@code
 * lora_config} inputs, byte for byte as the backend reads them) of {@link
 * dev.jbond.onnx.lora.LoraAdapter}s, and {@link dev.jbond.serving.lora.LoraExports} (PEFT's {@code
 * adapter_model.safetensors} and {@code adapter_config.json}, TensorRT-LLM's prefetch arrays) over
 * {@link dev.jbond.serving.lora.SafeTensors} and {@link dev.jbond.serving.lora.NpyFiles}.
 */
package dev.jbond.serving.lora;
