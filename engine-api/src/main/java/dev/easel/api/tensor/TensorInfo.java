package dev.easel.api.tensor;

import java.util.Arrays;
import java.util.Objects;

/**
 * Name, element type and shape of one tensor; what a file's header says about it before any data is read.
 * A 0-d tensor has an empty shape and one element.
 */
public final class TensorInfo {
    private final String name;
    private final DType dtype;
    private final long[] shape;

    public TensorInfo(String name, DType dtype, long... shape) {
        this.name = Objects.requireNonNull(name, "name is null");
        this.dtype = Objects.requireNonNull(dtype, "dtype is null");
        this.shape = shape.clone();
        for (long d : this.shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + name + "' has a negative dimension: "
                        + Arrays.toString(shape));
            }
        }
    }

    public String name() {
        return name;
    }

    public DType dtype() {
        return dtype;
    }

    /** A copy of the shape. */
    public long[] shape() {
        return shape.clone();
    }

    /** Number of dimensions. */
    public int rank() {
        return shape.length;
    }

    /** One dimension. */
    public long dim(int i) {
        return shape[i];
    }

    /** Number of elements (1 for a 0-d tensor); throws on overflow rather than wrapping. */
    public long elementCount() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /**
     * Number of data bytes.
     *
     * @throws ArithmeticException on overflow, or if a sub-byte tensor does not fill whole bytes
     */
    public long byteSize() {
        long bits = Math.multiplyExact(elementCount(), dtype.bits());
        if (bits % 8 != 0) {
            throw new ArithmeticException("tensor '" + name + "' of " + elementCount() + " " + dtype
                    + " elements does not fill whole bytes");
        }
        return bits / 8;
    }

    /** The same tensor under another name. */
    public TensorInfo withName(String newName) {
        return new TensorInfo(newName, dtype, shape);
    }

    /** The same tensor with another element type. */
    public TensorInfo withDType(DType newType) {
        return new TensorInfo(name, newType, shape);
    }

    /** Whether both have the same shape, whatever their names and types. */
    public boolean sameShape(TensorInfo other) {
        return Arrays.equals(shape, other.shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, dtype, Arrays.hashCode(shape));
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
