package dev.easel.core.adapter;

import org.ejml.data.DMatrixRMaj;

/**
 * One LoRA module to write: {@code ΔW = (alpha/k)·up·down} with {@code up} out×k and {@code down} k×(in·kh·kw).
 *
 * @param name   the kohya module name
 * @param up     out×k
 * @param down   k×(in·kh·kw)
 * @param alpha  the alpha to store
 * @param in     input channels
 * @param kernel {@code {kh, kw}} for a conv module, {@code null} for Linear
 */
public record LoraOutput(String name, DMatrixRMaj up, DMatrixRMaj down, double alpha, int in, int[] kernel) {
    /** The rank. */
    public int rank() {
        return down.numRows;
    }

    /** Whether it adapts a conv with a kernel larger than 1x1 (kohya's conv_dim modules). */
    public boolean convKernel() {
        return kernel != null && kernel[0] * kernel[1] > 1;
    }
}
