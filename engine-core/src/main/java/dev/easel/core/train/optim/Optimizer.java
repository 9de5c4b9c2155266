package dev.easel.core.train.optim;

import ai.djl.ndarray.NDArray;
import java.util.List;
import java.util.Map;

/**
 * Updates trainable tensors in place from their gradients. Implementations follow PyTorch's reference algorithms
 * step for step, so a run matches what kohya users know; their state is a set of named tensors saved with each
 * checkpoint.
 */
public interface Optimizer {
    /** The name users configure ({@code AdamW}). */
    String name();

    /**
     * One update of every tensor of every group, with the group's learning rate for this step. Tensors without a
     * gradient are skipped. Runs with autograd off.
     */
    void step(List<List<NDArray>> groups, double[] learningRates);

    /** The state to checkpoint: named by group and tensor index ({@code g0.p3.exp_avg}). */
    Map<String, NDArray> state();

    /** Restores what {@link #state()} returned into a fresh optimiser over the same tensors. */
    void restore(Map<String, NDArray> state);
}
