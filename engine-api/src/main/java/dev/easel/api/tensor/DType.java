package dev.easel.api.tensor;

import java.util.Locale;

/**
 * Element types, named as the safetensors specification names them ({@code F32}, {@code BF16}, ...), which is also
 * what {@code easel inspect} prints.
 *
 * <p>The constants after {@code BOOL} were added in 1.1.0 so that every dtype of the safetensors specification can
 * be read and copied; {@link #F4}, {@link #F6_E2M3} and {@link #F6_E3M2} are sub-byte types (several elements
 * share a byte), for which {@link #bits()} is meaningful and {@link #byteSize()} is not.
 */
public enum DType {
    F64(8, true),
    F32(4, true),
    F16(2, true),
    BF16(2, true),
    F8_E4M3(1, true),
    F8_E5M2(1, true),
    I64(8, false),
    I32(4, false),
    I16(2, false),
    I8(1, false),
    U8(1, false),
    BOOL(1, false),
    U16(2, false),
    U32(4, false),
    U64(8, false),
    /** Complex numbers of two F32; not averaged by merges (they copy it). */
    C64(8, false),
    /** Exponent-only power-of-two scale (MX formats). */
    F8_E8M0(1, true),
    F8_E4M3FNUZ(1, true),
    F8_E5M2FNUZ(1, true),
    /** MX fp4 (e2m1), two elements per byte. */
    F4(-4, true),
    /** MX fp6 (e2m3), four elements per three bytes. */
    F6_E2M3(-6, true),
    /** MX fp6 (e3m2), four elements per three bytes. */
    F6_E3M2(-6, true);

    /** Positive: bytes per element; negative: minus the bits of a sub-byte type. */
    private final int size;
    private final boolean floatingPoint;

    DType(int size, boolean floatingPoint) {
        this.size = size;
        this.floatingPoint = floatingPoint;
    }

    /**
     * Bytes per element.
     *
     * @throws IllegalStateException for sub-byte types ({@link #F4}, {@link #F6_E2M3}, {@link #F6_E3M2})
     */
    public int byteSize() {
        if (size < 0) {
            throw new IllegalStateException(name() + " is a sub-byte type: use bits()");
        }
        return size;
    }

    /** Bits per element (8 times {@link #byteSize()} for whole-byte types). */
    public int bits() {
        return size < 0 ? -size : size * 8;
    }

    /** Whether several elements share one byte. */
    public boolean isSubByte() {
        return size < 0;
    }

    /** Whether values are floating point (merges average these and copy the rest). */
    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /**
     * Parses a safetensors dtype name, or one of the user spellings {@code fp32}, {@code fp16}, {@code bf16},
     * {@code float32}, {@code half}.
     *
     * @throws IllegalArgumentException listing the accepted names
     */
    public static DType parse(String name) {
        String n = name.trim().toUpperCase(Locale.ROOT);
        switch (n) {
            case "FP64": case "FLOAT64": case "DOUBLE": return F64;
            case "FP32": case "FLOAT32": case "FLOAT": return F32;
            case "FP16": case "FLOAT16": case "HALF": return F16;
            case "BFLOAT16": return BF16;
            case "INT64": case "LONG": return I64;
            case "INT32": case "INT": return I32;
            case "INT16": case "SHORT": return I16;
            case "INT8": return I8;
            case "UINT8": return U8;
            default:
                break;
        }
        try {
            return valueOf(n);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown dtype '" + name + "'; expected one of "
                    + java.util.Arrays.toString(values()) + " or fp32, fp16, bf16");
        }
    }
}
