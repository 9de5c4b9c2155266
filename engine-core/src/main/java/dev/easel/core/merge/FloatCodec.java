package dev.easel.core.merge;

import dev.easel.api.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Converts little-endian F16, BF16 and F32 tensor bytes to float32 Java arrays and back, in plain Java, for the
 * element-wise fast path. Widening is exact; narrowing rounds to nearest even as torch does (overflow to infinity,
 * fp16 subnormals kept, NaN stays a quiet NaN), so results match the NDArray path bit for bit.
 */
final class FloatCodec {
    /** Every fp16 bit pattern widened to float32: one load per element instead of bit twiddling. */
    private static final float[] HALF_TO_FLOAT = new float[1 << 16];

    static {
        for (int h = 0; h < HALF_TO_FLOAT.length; h++) {
            HALF_TO_FLOAT[h] = halfToFloatSlow((short) h);
        }
    }

    private FloatCodec() {
    }

    /** Whether this codec reads and writes the type. */
    static boolean supports(DType dtype) {
        return dtype == DType.F16 || dtype == DType.BF16 || dtype == DType.F32;
    }

    /**
     * Decodes {@code count} elements starting at element {@code from} of {@code bytes} (a whole tensor, positioned
     * at 0) into {@code out[0..count)}. {@code scratch} holds at least {@code count} shorts.
     */
    static void decode(ByteBuffer bytes, DType dtype, long from, int count, float[] out, short[] scratch) {
        ByteBuffer b = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32:
                b.position(Math.toIntExact(from * 4));
                b.asFloatBuffer().get(out, 0, count);
                break;
            case F16:
                b.position(Math.toIntExact(from * 2));
                b.asShortBuffer().get(scratch, 0, count);
                for (int i = 0; i < count; i++) {
                    out[i] = HALF_TO_FLOAT[scratch[i] & 0xffff];
                }
                break;
            case BF16:
                b.position(Math.toIntExact(from * 2));
                b.asShortBuffer().get(scratch, 0, count);
                for (int i = 0; i < count; i++) {
                    out[i] = Float.intBitsToFloat((scratch[i] & 0xffff) << 16);
                }
                break;
            default:
                throw new IllegalArgumentException("no float codec for " + dtype);
        }
    }

    /**
     * Encodes {@code in[0..count)} as {@code dtype} at the position of {@code out} (little-endian), advancing it.
     * {@code scratch} holds at least {@code count} shorts.
     */
    static void encode(float[] in, int count, DType dtype, ByteBuffer out, short[] scratch) {
        ByteBuffer o = out.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        switch (dtype) {
            case F32:
                o.asFloatBuffer().put(in, 0, count);
                out.position(out.position() + count * 4);
                break;
            case F16:
                for (int i = 0; i < count; i++) {
                    scratch[i] = floatToHalf(in[i]);
                }
                o.asShortBuffer().put(scratch, 0, count);
                out.position(out.position() + count * 2);
                break;
            case BF16:
                for (int i = 0; i < count; i++) {
                    scratch[i] = floatToBf16(in[i]);
                }
                o.asShortBuffer().put(scratch, 0, count);
                out.position(out.position() + count * 2);
                break;
            default:
                throw new IllegalArgumentException("no float codec for " + dtype);
        }
    }

    /** fp16 bits to float32, exactly. */
    static float halfToFloat(short h) {
        return HALF_TO_FLOAT[h & 0xffff];
    }

    private static float halfToFloatSlow(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0) {
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        if (exp == 31) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** float32 to fp16 bits, rounding to nearest even. */
    static short floatToHalf(float f) {
        int x = Float.floatToRawIntBits(f);
        int sign = (x >>> 16) & 0x8000;
        int abs = x & 0x7fffffff;
        if (abs >= 0x38800000) {
            if (abs >= 0x477ff000) {
                // >= 65520 rounds to infinity; infinities stay; NaN keeps its top payload bits and is made quiet
                return (short) (abs > 0x7f800000 ? sign | 0x7e00 | ((abs >>> 13) & 0x3ff) : sign | 0x7c00);
            }
            // rebias the exponent (127 -> 15) and round the 13 dropped mantissa bits to nearest even; a carry
            // moves into the exponent, which is exactly the rounding of the value
            return (short) (sign | ((abs - 0x38000000 + 0x0fff + ((abs >>> 13) & 1)) >>> 13));
        }
        // fp16 subnormal or zero: scaling by 2^24 is exact, rint rounds half to even
        return (short) (sign | (int) Math.rint(Float.intBitsToFloat(abs) * 0x1p24f));
    }

    /** float32 to bf16 bits, rounding to nearest even. */
    static short floatToBf16(float f) {
        int b = Float.floatToRawIntBits(f);
        if ((b & 0x7fffffff) > 0x7f800000) {
            return (short) ((b >>> 16) | 0x40);
        }
        return (short) ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16);
    }
}
