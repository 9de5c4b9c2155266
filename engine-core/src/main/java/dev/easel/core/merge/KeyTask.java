package dev.easel.core.merge;

import dev.easel.api.tensor.TensorInfo;

/**
 * One output tensor to produce.
 *
 * @param output the tensor as written (name, output type, shape)
 * @param block  its merge block ({@code BASE}, {@code IN04}, ...; empty when the architecture is unknown)
 * @param plan   how to compute it
 */
record KeyTask(TensorInfo output, String block, KeyPlan plan) {
    /** Whether the bytes are copied from one model unchanged (no conversion, no method). */
    boolean rawCopy() {
        return plan instanceof KeyPlan.Read r && r.dtype() == output.dtype();
    }
}
