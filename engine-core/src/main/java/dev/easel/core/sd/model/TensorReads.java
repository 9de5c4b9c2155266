package dev.easel.core.sd.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.ShortBuffer;

/** Tensor bytes from a {@code TensorSource} as float32 NDArrays that never alias the (mapped) source. */
public final class TensorReads {
    private TensorReads() {
    }

    /** Whether {@link #toFloat32} converts this type. */
    public static boolean readable(DType t) {
        return t == DType.F32 || t == DType.F16 || t == DType.BF16 || t == DType.F64;
    }

    /** A float32 copy of {@code bytes} (little-endian, exactly the tensor). */
    public static NDArray toFloat32(NDManager manager, ByteBuffer bytes, DType dtype, Shape shape) {
        ByteBuffer src = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        if (dtype == DType.BF16) {
            // bfloat16 by hand: DJL 0.36's PyTorch engine aborts on BFLOAT16 conversions; widening is exact.
            ShortBuffer in = src.asShortBuffer();
            ByteBuffer out = ByteBuffer.allocateDirect(in.remaining() * 4).order(ByteOrder.nativeOrder());
            IntBuffer bits = out.asIntBuffer();
            while (in.hasRemaining()) {
                bits.put((in.get() & 0xffff) << 16);
            }
            NDArray raw = manager.create(out, shape, DataType.FLOAT32);
            NDArray owned = raw.duplicate();
            raw.close();
            return owned;
        }
        ByteBuffer copy = src.slice().order(ByteOrder.LITTLE_ENDIAN);
        if (!copy.isDirect() || ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            copy = ByteBuffer.allocateDirect(src.remaining()).order(ByteOrder.nativeOrder());
            copy.put(src).flip();
        }
        // A direct (mapped) buffer is wrapped without copying; the clone or conversion below is the only copy.
        DataType type = switch (dtype) {
            case F32 -> DataType.FLOAT32;
            case F16 -> DataType.FLOAT16;
            case F64 -> DataType.FLOAT64;
            default -> throw new IllegalArgumentException("cannot read " + dtype + " as float32");
        };
        NDArray raw = manager.create(copy, shape, type);
        // An array created from a direct buffer is backed by it (kept alive only by that array), and toType to the
        // same type aliases it: clone so the result owns its memory.
        NDArray out = type == DataType.FLOAT32 ? raw.duplicate() : raw.toType(DataType.FLOAT32, true);
        raw.close();
        return out;
    }
}
