package dev.jbond.onnx.ort;

/** Where ONNX Runtime runs a session's kernels. */
public enum ExecutionProvider {
  /** The CPU; always available. */
  CPU,
  /**
   * An NVIDIA GPU through CUDA. Needs the {@code onnxruntime_gpu} jar (Maven profile {@code cuda})
   * and CUDA 12 with cuDNN 9 on the machine; ops without CUDA kernels fall back to the CPU.
   */
  CUDA
}
