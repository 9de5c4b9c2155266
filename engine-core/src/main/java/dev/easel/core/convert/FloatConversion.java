package dev.easel.core.convert;

import dev.easel.api.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Element type conversion between F64, F32, F16 and BF16 over little-endian byte buffers, rounding to nearest even
 * exactly as torch's {@code .half()} / {@code .bfloat16()} do (NaN becomes torch's canonical quiet NaN, overflow
 * becomes infinity, fp16 subnormals are rounded correctly).
 *
 * <p>Works chunk by chunk through primitive arrays (bulk buffer copies, then a branch-light loop the JIT compiles
 * well), never per-element boxing, so converting a 4 GB checkpoint costs about as much as reading it.
 */
public final class FloatConversion {
    private static final int CHUNK = 1 << 16;
    /** Per-thread scratch arrays: converting gigabytes must not turn into gigabytes of garbage (heap = RSS). */
    private static final ThreadLocal<int[]> INTS = ThreadLocal.withInitial(() -> new int[CHUNK]);
    private static final ThreadLocal<short[]> SHORTS = ThreadLocal.withInitial(() -> new short[CHUNK]);

    private FloatConversion() {
    }

    /** Whether {@link #convert} handles this pair. */
    public static boolean supports(DType from, DType to) {
        return isConvertible(from) && isConvertible(to);
    }

    private static boolean isConvertible(DType t) {
        return t == DType.F64 || t == DType.F32 || t == DType.F16 || t == DType.BF16;
    }

    /**
     * Converts every element from {@code src}'s position to its limit into {@code dst} at its position; both
     * positions advance. {@code dst} must have room for the converted elements.
     */
    public static void convert(ByteBuffer src, DType from, ByteBuffer dst, DType to) {
        if (from != to && !supports(from, to)) {
            throw new IllegalArgumentException("cannot convert " + from + " to " + to);
        }
        ByteBuffer in = src.slice().order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer out = dst.slice().order(ByteOrder.LITTLE_ENDIAN);
        long n = in.remaining() / from.byteSize();
        if (from == to) {
            out.put(in);
        } else if (from == DType.F32 && (to == DType.F16 || to == DType.BF16)) {
            var ints = in.asIntBuffer();
            var shorts = out.asShortBuffer();
            int[] a = INTS.get();
            short[] b = SHORTS.get();
            boolean half = to == DType.F16;
            while (ints.hasRemaining()) {
                int k = Math.min(a.length, ints.remaining());
                ints.get(a, 0, k);
                if (half) {
                    for (int i = 0; i < k; i++) {
                        b[i] = f32ToF16(a[i]);
                    }
                } else {
                    for (int i = 0; i < k; i++) {
                        b[i] = f32ToBf16(a[i]);
                    }
                }
                shorts.put(b, 0, k);
            }
        } else if ((from == DType.F16 || from == DType.BF16) && to == DType.F32) {
            var shorts = in.asShortBuffer();
            var ints = out.asIntBuffer();
            short[] a = SHORTS.get();
            int[] b = INTS.get();
            boolean half = from == DType.F16;
            while (shorts.hasRemaining()) {
                int k = Math.min(a.length, shorts.remaining());
                shorts.get(a, 0, k);
                if (half) {
                    for (int i = 0; i < k; i++) {
                        b[i] = Float.floatToRawIntBits(f16ToF32(a[i]));
                    }
                } else {
                    for (int i = 0; i < k; i++) {
                        b[i] = a[i] << 16;
                    }
                }
                ints.put(b, 0, k);
            }
        } else {
            // Rare paths (F64, F16<->BF16): through float, element by element.
            for (long i = 0; i < n; i++) {
                putFloat(out, to, getFloat(in, from, (int) i), (int) i);
            }
        }
        src.position(src.position() + (int) (n * from.byteSize()));
        dst.position(dst.position() + (int) (n * to.byteSize()));
    }

    /** A new little-endian heap buffer holding {@code src} converted. */
    public static ByteBuffer convert(ByteBuffer src, DType from, DType to) {
        long n = src.remaining() / from.byteSize();
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(n * to.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
        convert(src.duplicate(), from, out, to);
        return out.flip();
    }

    private static double getFloat(ByteBuffer in, DType t, int i) {
        return switch (t) {
            case F64 -> in.getDouble(i * 8);
            case F32 -> in.getFloat(i * 4);
            case F16 -> f16ToF32(in.getShort(i * 2));
            case BF16 -> Float.intBitsToFloat(in.getShort(i * 2) << 16);
            default -> throw new IllegalArgumentException(t.name());
        };
    }

    private static void putFloat(ByteBuffer out, DType t, double v, int i) {
        switch (t) {
            case F64 -> out.putDouble(i * 8, v);
            case F32 -> out.putFloat(i * 4, (float) v);
            case F16 -> out.putShort(i * 2, f32ToF16(Float.floatToRawIntBits((float) v)));
            case BF16 -> out.putShort(i * 2, f32ToBf16(Float.floatToRawIntBits((float) v)));
            default -> throw new IllegalArgumentException(t.name());
        }
    }

    /** fp32 bits to fp16 bits, round to nearest even (c10's fp16_ieee_from_fp32_value). */
    public static short f32ToF16(int bits) {
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7fffffff;
        int h;
        if (abs >= 0x47800000) { // >= 65536 (inf), or NaN
            h = abs > 0x7f800000 ? 0x7e00 : 0x7c00;
        } else if (abs < 0x38800000) { // below fp16's smallest normal: subnormal or zero
            // Adding 0.5 aligns the fp16 subnormal bits at the bottom; the FPU rounds to nearest even for us.
            h = Float.floatToRawIntBits(Float.intBitsToFloat(abs) + 0.5f) - 0x3f000000;
        } else {
            int mantOdd = (abs >>> 13) & 1;
            // Rebias the exponent (-112 << 23) and round; values from 65520 up carry into 0x7c00, infinity.
            h = (abs + 0xc8000fff + mantOdd) >>> 13;
        }
        return (short) (sign | h);
    }

    /** fp32 bits to bf16 bits, round to nearest even; NaN becomes 0x7fc0 as in c10::BFloat16. */
    public static short f32ToBf16(int bits) {
        if ((bits & 0x7fffffff) > 0x7f800000) {
            return (short) 0x7fc0;
        }
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    /** fp16 bits to the exactly equal float. */
    public static float f16ToF32(short half) {
        int h = half & 0xffff;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }
}
