package dev.easel.api.merge;

/**
 * The pure-Java form of an element-wise merge method ({@link MergeAlgorithm#elementwise()}): float32 values in
 * plain arrays in, float32 values out, position by position.
 *
 * <p>Why it exists: for weighted sums and add-differences the arithmetic is a few flops per element, so creating
 * native arrays per key and crossing JNI several times costs more than the math. The engine decodes the inputs'
 * file bytes (fp16, bf16, fp32) chunk by chunk straight from the memory-mapped files into reused arrays, calls the
 * kernel, and encodes the result into the output buffer, with no native allocation per key.
 *
 * <p>Implementations must be stateless or thread-confined: the engine calls one kernel from several threads at once,
 * each with its own arrays.
 */
@FunctionalInterface
public interface ElementwiseKernel {
    /**
     * Computes {@code out[i]} for {@code i} in {@code [0, length)} from {@code inputs[j][i]}, one array per input in
     * {@link MergeAlgorithm#inputs()} order. Must not modify the inputs; {@code out} is never one of them. Arrays
     * may be longer than {@code length}.
     */
    void apply(float[][] inputs, float[] out, int length);
}
