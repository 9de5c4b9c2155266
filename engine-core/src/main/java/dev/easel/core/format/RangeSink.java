package dev.easel.core.format;

import dev.easel.api.tensor.TensorSink;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A {@link TensorSink} that also takes a planned tensor in parts, so a producer can stream a large tensor through a
 * small reused buffer instead of materialising all of it (the merge engine's element-wise fast path does).
 * A tensor counts as written once every one of its bytes has arrived, through {@link #writeRange} calls (from any
 * threads, in any order, never overlapping) or one {@link #write}.
 */
public interface RangeSink extends TensorSink {
    /**
     * Writes {@code data} (position to limit) at byte {@code offset} of the planned tensor {@code name}.
     *
     * @throws IllegalArgumentException if the tensor is not planned, was written whole already, or the range does
     *                                  not fit in it
     */
    void writeRange(String name, long offset, ByteBuffer data) throws IOException;
}
