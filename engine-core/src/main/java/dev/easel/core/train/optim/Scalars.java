package dev.easel.core.train.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.HashMap;
import java.util.Map;

/**
 * 0-d tensors of the numbers one optimiser step uses, made once per value and type and shared by every parameter:
 * {@code NDArray.mul(Number)} would create (and free) a native scalar per call, a direct buffer allocation each time,
 * which over the hundreds of small tensors of a LoRA costs more than the arithmetic. The tensors come from
 * {@code full}, so libtorch owns their memory; the caller's scope frees them.
 */
final class Scalars {
    private final Map<String, NDArray> cache = new HashMap<>();

    /** {@code value} as a 0-d tensor of {@code like}'s type, in its manager. */
    NDArray get(NDArray like, double value) {
        DataType type = like.getDataType();
        float f = (float) value;
        return cache.computeIfAbsent(type + ":" + Float.floatToIntBits(f),
                k -> like.getManager().full(new Shape(), f, type));
    }
}
