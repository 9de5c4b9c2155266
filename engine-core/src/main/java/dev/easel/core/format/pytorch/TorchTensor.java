package dev.easel.core.format.pytorch;

import dev.easel.api.tensor.DType;
import java.util.Arrays;

/**
 * A tensor as a pickle rebuilds it: a view of a storage from an element offset, with a shape and strides in
 * elements. Several tensors may share one storage (views, tied weights).
 */
public final class TorchTensor {
    private final TorchStorage storage;
    private final long offset;
    private final long[] shape;
    private final long[] stride;
    private final DType dtype;

    TorchTensor(TorchStorage storage, long offset, long[] shape, long[] stride, DType dtype) {
        this.storage = storage;
        this.offset = offset;
        this.shape = shape;
        this.stride = stride;
        this.dtype = dtype;
    }

    public TorchStorage storage() {
        return storage;
    }

    /** Offset into the storage, in elements. */
    public long offset() {
        return offset;
    }

    public long[] shape() {
        return shape.clone();
    }

    /** Strides in elements. */
    public long[] stride() {
        return stride.clone();
    }

    public DType dtype() {
        return dtype;
    }

    /** Element count (1 for 0-d); throws on overflow. */
    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Whether the strides are the row-major ones of the shape (dimensions of size 1 ignored, as torch does). */
    public boolean isContiguous() {
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    /** One past the last storage element this view touches (its offset for an empty tensor). */
    long storageExtent() {
        if (elementCount() == 0) {
            return offset;
        }
        long last = offset;
        for (int i = 0; i < shape.length; i++) {
            last = Math.addExact(last, Math.multiplyExact(shape[i] - 1, stride[i]));
        }
        return last + 1;
    }

    @Override
    public String toString() {
        return "tensor(" + dtype + Arrays.toString(shape) + " of storage " + storage.key() + ")";
    }
}
