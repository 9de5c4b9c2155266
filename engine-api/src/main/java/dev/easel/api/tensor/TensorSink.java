package dev.easel.api.tensor;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A model file being written from a {@link WritePlan}: tensors arrive one at a time, in any order, from any
 * thread, and nothing appears at the target path until {@link #commit()}.
 *
 * <p>Implementations write to a temporary file beside the target and rename it into place on commit, so a crash,
 * an error or a {@link #close()} without commit leaves no partial output and never damages an existing file of the
 * same name.
 */
public interface TensorSink extends AutoCloseable {
    /**
     * Writes one planned tensor. {@code data} holds exactly the planned byte size in the planned dtype,
     * little-endian, from its position to its limit; the sink does not keep a reference after returning.
     *
     * @throws IllegalArgumentException if the tensor is not in the plan, was written already, or has the wrong size
     */
    void write(String name, ByteBuffer data) throws IOException;

    /**
     * Checks that every planned tensor was written, flushes, and atomically moves the result to its target.
     *
     * @throws IOException if tensors are missing or the file cannot be published
     */
    void commit() throws IOException;

    /** Discards the output unless committed. */
    @Override
    void close() throws IOException;
}
