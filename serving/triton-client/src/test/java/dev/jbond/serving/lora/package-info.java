/** Tests of the LoRA request tensors and the adapter export files. */
package dev.jbond.serving.lora;
