package dev.easel.core.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.easel.api.tensor.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class FloatConversionTest {
    private static int f16(float f) {
        return FloatConversion.f32ToF16(Float.floatToRawIntBits(f)) & 0xffff;
    }

    private static int bf16(int bits) {
        return FloatConversion.f32ToBf16(bits) & 0xffff;
    }

    @Test
    void everyHalfRoundTripsAndMidpointsRoundToEven() {
        for (int h = 0; h < 0x10000; h++) {
            float f = FloatConversion.f16ToF32((short) h);
            boolean nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0;
            if (nan) {
                assertEquals(h & 0x8000 | 0x7e00, f16(f), "NaN " + Integer.toHexString(h));
                continue;
            }
            assertEquals(h, f16(f), "value " + Integer.toHexString(h));
            int next = h + 1;
            if ((h & 0x7fff) < 0x7c00 && (next & 0x7fff) < 0x7c00 && (next & 0x8000) == (h & 0x8000)) {
                // Exactly halfway to the next half: ties go to the even one (torch, IEEE RNE).
                double mid = ((double) f + FloatConversion.f16ToF32((short) next)) / 2;
                int expected = (h & 1) == 0 ? h : next;
                assertEquals(expected, f16((float) mid), "midpoint after " + Integer.toHexString(h));
                float below = (h & 0x8000) == 0 ? Math.nextDown((float) mid) : Math.nextUp((float) mid);
                assertEquals(h, f16(below), "just inside the midpoint after " + Integer.toHexString(h));
            }
        }
    }

    @Test
    void torchsSpecialCases() {
        assertEquals(0x7bff, f16(65504f));
        assertEquals(0x7bff, f16(65519.99f));
        assertEquals(0x7c00, f16(65520f)); // rounds up to infinity, like torch
        assertEquals(0xfc00, f16(-1e9f));
        assertEquals(0x0001, f16(0x1p-24f));
        assertEquals(0x0000, f16(0x1p-25f)); // tie between 0 and the smallest subnormal: even is 0
        assertEquals(0x0002, f16(0x1.8p-24f)); // tie between 1 and 2 subnormal units: even is 2
        assertEquals(0x8000, f16(-0f));
        assertEquals(0x7e00, f16(Float.NaN));
        assertEquals(0x3f80, bf16(0x3f808000)); // tie, even kept
        assertEquals(0x3f82, bf16(0x3f818000)); // tie, rounds up to even
        assertEquals(0x3f81, bf16(0x3f808001));
        assertEquals(0x7fc0, bf16(0xffc00001)); // NaN, sign dropped like c10::BFloat16
        assertEquals(0x7f80, bf16(0x7f7fffff)); // max float rounds to infinity
    }

    @Test
    void buffersConvertBothWaysBulk() {
        int n = 100_003;
        ByteBuffer f32 = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
        java.util.Random random = new java.util.Random(3);
        for (int i = 0; i < n; i++) {
            f32.putFloat(i * 4, (float) random.nextGaussian() * 100);
        }
        ByteBuffer half = FloatConversion.convert(f32, DType.F32, DType.F16);
        ByteBuffer bf = FloatConversion.convert(f32, DType.F32, DType.BF16);
        ByteBuffer back = FloatConversion.convert(half, DType.F16, DType.F32);
        ByteBuffer bfBack = FloatConversion.convert(bf, DType.BF16, DType.F32);
        for (int i = 0; i < n; i++) {
            int bits = f32.getInt(i * 4);
            assertEquals(f16(Float.intBitsToFloat(bits)), half.getShort(i * 2) & 0xffff);
            assertEquals(bf16(bits), bf.getShort(i * 2) & 0xffff);
            assertEquals(FloatConversion.f16ToF32(half.getShort(i * 2)), back.getFloat(i * 4));
            assertEquals((bf.getShort(i * 2) & 0xffff) << 16, bfBack.getInt(i * 4));
        }
        ByteBuffer viaF64 = FloatConversion.convert(FloatConversion.convert(f32, DType.F32, DType.F64), DType.F64, DType.F32);
        assertEquals(f32, viaF64);
    }
}
