package dev.easel.core.adapter;

/**
 * Where one adapter module lands in a checkpoint: the weight key, the bias key if the checkpoint has one, and for
 * modules that cover part of a fused weight (q/k/v of OpenCLIP's {@code in_proj_weight}) which of {@code parts}
 * equal row slices.
 *
 * @param weightKey the checkpoint key of the weight
 * @param biasKey   the checkpoint key of the bias, or {@code null}
 * @param part      the row slice, 0 when the module covers the whole weight
 * @param parts     the number of row slices, 1 when the module covers the whole weight
 */
public record AdapterTarget(String weightKey, String biasKey, int part, int parts) {
    /** Whether the module covers only a slice of the weight. */
    public boolean sliced() {
        return parts > 1;
    }
}
