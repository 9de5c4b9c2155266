package dev.easel.core.merge;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Moves tensors between file bytes and float32 {@link NDArray}s with as few copies as libtorch allows: a direct
 * (memory-mapped) buffer is wrapped in place ({@code from_blob}) and converted once to float32; results are
 * converted once to the output type and handed to the sink as a view of the native memory.
 */
public final class TensorArrays {
    private TensorArrays() {
    }

    /** The DJL type of a file dtype; F8 types have none. */
    public static DataType dataType(DType dtype) {
        switch (dtype) {
            case F64: return DataType.FLOAT64;
            case F32: return DataType.FLOAT32;
            case F16: return DataType.FLOAT16;
            case BF16: return DataType.BFLOAT16;
            case I64: return DataType.INT64;
            case I32: return DataType.INT32;
            case I16: return DataType.INT16;
            case I8: return DataType.INT8;
            case U8: return DataType.UINT8;
            case BOOL: return DataType.BOOLEAN;
            default:
                throw new MergeException("tensors of type " + dtype + " cannot be merged (no float32 conversion)");
        }
    }

    /** Whether the engine can convert this type to float32 and back. */
    public static boolean computable(DType dtype) {
        return dtype == DType.F64 || dtype == DType.F32 || dtype == DType.F16 || dtype == DType.BF16;
    }

    /**
     * A float32 array owned by {@code manager} holding {@code bytes} (exactly the tensor's bytes, little-endian).
     * Never aliases {@code bytes}, so algorithms cannot write into a mapped file.
     */
    public static NDArray toFloat32(NDManager manager, ByteBuffer bytes, DType dtype, Shape shape) {
        ByteBuffer data = bytes.slice().order(ByteOrder.LITTLE_ENDIAN);
        if (!data.isDirect() || ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            ByteBuffer direct = manager.allocateDirect(data.remaining());
            direct.put(data.duplicate());
            direct.flip();
            data = direct;
        }
        if (dtype == DType.BF16) {
            return bf16ToFloat32(manager, data, shape);
        }
        NDArray raw = manager.create(data, shape, dataType(dtype));
        if (dtype == DType.F32) {
            return raw.duplicate();
        }
        NDArray f32 = raw.toType(DataType.FLOAT32, false);
        raw.close();
        return f32;
    }

    /**
     * The bytes of {@code array} converted to {@code dtype} (round to nearest even, as torch does), little-endian.
     * The buffer may be a view of native memory owned by {@code array}'s manager: use it before the manager closes.
     */
    public static ByteBuffer toBytes(NDArray array, DType dtype) {
        if (dtype == DType.BF16) {
            return float32ToBf16(array);
        }
        NDArray converted = array.getDataType() == dataType(dtype) ? array : array.toType(dataType(dtype), false);
        ByteBuffer bytes = converted.toByteBuffer(true);
        return bytes.order(ByteOrder.LITTLE_ENDIAN);
    }

    /*
     * bfloat16 by hand: DJL 0.36's PyTorch engine aborts the process on toType(BFLOAT16), so the conversion is done
     * on the raw bits. bfloat16 is the top half of a float32, so widening is exact and narrowing rounds to nearest
     * even exactly as torch does (NaN stays a quiet NaN).
     */
    private static NDArray bf16ToFloat32(NDManager manager, ByteBuffer data, Shape shape) {
        java.nio.ShortBuffer in = data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asShortBuffer();
        ByteBuffer out = manager.allocateDirect(in.remaining() * 4).order(ByteOrder.nativeOrder());
        java.nio.IntBuffer bits = out.asIntBuffer();
        while (in.hasRemaining()) {
            bits.put((in.get() & 0xffff) << 16);
        }
        return manager.create(out, shape, DataType.FLOAT32);
    }

    private static ByteBuffer float32ToBf16(NDArray array) {
        NDArray f32 = array.getDataType() == DataType.FLOAT32 ? array : array.toType(DataType.FLOAT32, false);
        java.nio.IntBuffer in = f32.toByteBuffer(true).order(ByteOrder.nativeOrder()).asIntBuffer();
        ByteBuffer out = array.getManager().allocateDirect(in.remaining() * 2).order(ByteOrder.LITTLE_ENDIAN);
        while (in.hasRemaining()) {
            int b = in.get();
            short h;
            if ((b & 0x7fffffff) > 0x7f800000) {
                h = (short) ((b >>> 16) | 0x40);
            } else {
                h = (short) ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16);
            }
            out.putShort(h);
        }
        out.flip();
        return out;
    }
}
