package dev.easel.core.convert;

import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import java.util.List;

/**
 * How one output tensor is made from the input: byte ranges of source tensors laid end to end (a rename, a reshape,
 * a row slice of OpenCLIP's fused {@code in_proj}, or the concatenation back), optionally a 2-D transpose
 * ({@code text_projection}), then an element-type cast to {@link #out()}'s dtype.
 *
 * @param out       name, dtype and shape written
 * @param sourceType element type of the sources
 * @param parts     source byte ranges in output order
 * @param transpose whether the assembled [rows, cols] matrix is transposed (shape of {@code out} is the result)
 */
public record TensorRecipe(TensorInfo out, DType sourceType, List<Part> parts, boolean transpose) {
    /** Bytes {@code [offset, offset + length)} of source tensor {@code source}. */
    public record Part(String source, long offset, long length) {
    }

    public TensorRecipe {
        parts = List.copyOf(parts);
    }

    /** A whole source tensor under a (possibly new) name and shape. */
    public static TensorRecipe whole(TensorInfo source, String name, long... shape) {
        return new TensorRecipe(new TensorInfo(name, source.dtype(), shape), source.dtype(),
                List.of(new Part(source.name(), 0, source.byteSize())), false);
    }

    /** A whole source tensor renamed. */
    public static TensorRecipe renamed(TensorInfo source, String name) {
        return whole(source, name, source.shape());
    }

    /** The same recipe writing another element type. */
    public TensorRecipe withDType(DType dtype) {
        return new TensorRecipe(out.withDType(dtype), sourceType, parts, transpose);
    }

    /** Bytes of source data the recipe reads. */
    public long sourceBytes() {
        return parts.stream().mapToLong(Part::length).sum();
    }

    /** Whether the output is exactly one source tensor's bytes (no cast, no transpose). */
    public boolean isPlainCopy() {
        return !transpose && sourceType == out.dtype() && parts.size() == 1;
    }
}
