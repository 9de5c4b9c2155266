package dev.easel.core.runtime;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Arithmetic with Java numbers and arrays made from Java data whose memory libtorch owns, for every computation a
 * gradient flows through.
 *
 * <p>Why: on the CPU, DJL 0.36's PyTorch engine wraps an array created from Java data ({@code manager.create(float[])},
 * and the scalar that {@code NDArray.mul(Number)}, {@code div(Number)}, ... create internally) around a direct
 * {@code ByteBuffer} without copying, and only the Java array object keeps that buffer alive. {@code mul(Number)}
 * closes its scalar right after the multiplication, yet autograd has saved the scalar tensor for the backward pass
 * ({@code d(x·s)/dx = s}). Once the garbage collector frees the buffer and the allocator reuses its memory, the
 * backward multiplies by whatever lies there: an occasional NaN or infinite gradient that depends on GC timing, not
 * on the seed. Tensors from {@code full}, {@code duplicate} or any computation are libtorch's own and stay valid for
 * as long as autograd refers to them, however early their Java handle is closed.
 */
public final class TorchOwned {
    private TorchOwned() {
    }

    /** A 0-d tensor of {@code value} with the type of {@code like}, in its manager. */
    public static NDArray scalar(NDArray like, double value) {
        return like.getManager().full(new Shape(), (float) value, like.getDataType());
    }

    /** {@code x · value}, safe to differentiate. */
    public static NDArray mul(NDArray x, double value) {
        try (NDArray s = scalar(x, value)) {
            return x.mul(s);
        }
    }

    /** {@code x / value}, safe to differentiate. */
    public static NDArray div(NDArray x, double value) {
        try (NDArray s = scalar(x, value)) {
            return x.div(s);
        }
    }

    /** An array of {@code data} whose memory libtorch owns (a copy), safe to use in a differentiated product. */
    public static NDArray create(NDManager manager, float[] data, Shape shape) {
        try (NDArray wrapped = manager.create(data, shape)) {
            return wrapped.duplicate();
        }
    }
}
