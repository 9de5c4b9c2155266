package dev.easel.api.tensor;

import java.util.Locale;

/**
 * Element types, named as the safetensors specification names them ({@code F32}, {@code BF16}, ...), which is also
 * what {@code easel inspect} prints.
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
    BOOL(1, false);

    private final int byteSize;
    private final boolean floatingPoint;

    DType(int byteSize, boolean floatingPoint) {
        this.byteSize = byteSize;
        this.floatingPoint = floatingPoint;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
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
