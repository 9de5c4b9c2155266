package dev.easel.api.tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model file or folder opened for reading: its tensor list and metadata are known at once, each tensor's bytes
 * are read only when asked for.
 *
 * <p>Implementations must be safe for concurrent {@link #read(String)} calls from several threads (the merge engine
 * reads keys in parallel), must never execute code found in the file, and must check every size taken from the
 * file against the file before allocating for it.
 */
public interface TensorSource extends AutoCloseable {
    /** Where the tensors come from (a file, or a folder for multi-file formats). */
    Path location();

    /** The id of the format that opened it, for example {@code format/safetensors}. */
    String formatId();

    /** String metadata stored with the tensors (safetensors {@code __metadata__}); empty if the format has none. */
    Map<String, String> metadata();

    /** Every tensor, in the order the file stores them. */
    List<TensorInfo> tensors();

    /** The info of one tensor, if present. */
    Optional<TensorInfo> info(String name);

    /** Whether a tensor of that name is present. */
    default boolean contains(String name) {
        return info(name).isPresent();
    }

    /**
     * The bytes of one tensor: contiguous, row-major, little-endian, exactly {@link TensorInfo#byteSize()} long,
     * positioned at 0. The buffer may be a read-only view of a memory-mapped file; it stays valid until this source
     * is closed and must not be written to.
     *
     * @throws IOException naming the file and the tensor if it cannot be read
     * @throws java.util.NoSuchElementException if there is no such tensor
     */
    ByteBuffer read(String name) throws IOException;

    /** Releases mappings and file handles. Buffers handed out before become invalid. */
    @Override
    void close() throws IOException;
}
