package dev.easel.core.format.safetensors;

import dev.easel.api.tensor.DType;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The dtype strings of the safetensors header and the reference writer's ordering of them.
 *
 * <p>The reference writer ({@code safetensors/src/tensor.rs}) lays tensors out by descending position in its
 * {@code Dtype} enum, which is declared in increasing alignment order; copying that order here is what makes the
 * files Easel writes byte-identical to Python's {@code save_file}.
 */
final class SafetensorsDTypes {
    /** The reference crate's {@code Dtype} declaration order. */
    private static final List<DType> DECLARATION_ORDER = List.of(
            DType.BOOL, DType.F4, DType.F6_E2M3, DType.F6_E3M2, DType.U8, DType.I8, DType.F8_E5M2, DType.F8_E4M3,
            DType.F8_E8M0, DType.F8_E4M3FNUZ, DType.F8_E5M2FNUZ, DType.I16, DType.U16, DType.F16, DType.BF16,
            DType.I32, DType.U32, DType.F32, DType.C64, DType.F64, DType.I64, DType.U64);
    private static final Map<DType, Integer> RANK = new EnumMap<>(DType.class);

    static {
        for (int i = 0; i < DECLARATION_ORDER.size(); i++) {
            RANK.put(DECLARATION_ORDER.get(i), i);
        }
        if (RANK.size() != DType.values().length) {
            throw new IllegalStateException("a DType has no safetensors rank");
        }
    }

    private SafetensorsDTypes() {
    }

    /** The dtype a header string names; the spelling must be exact, as the reference reader requires. */
    static Optional<DType> parse(String headerName) {
        for (DType d : DType.values()) {
            if (d.name().equals(headerName)) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }

    /** Position in the reference enum; the writer places higher ranks first. */
    static int rank(DType dtype) {
        return RANK.get(dtype);
    }
}
