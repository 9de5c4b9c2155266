package dev.easel.api.format;

import dev.easel.api.EaselPlugin;
import dev.easel.api.tensor.TensorSink;
import dev.easel.api.tensor.TensorSource;
import dev.easel.api.tensor.WritePlan;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * A file format for model weights: reads a path as a lazy {@link TensorSource}, and optionally writes a
 * {@link TensorSink}.
 *
 * <p>Contract for readers: never execute anything from the file, never allocate from an untrusted size before
 * checking it against the file's length, and report problems as {@link ModelFormatException} naming the file.
 * Contract for writers: stream (never hold the whole model), and publish atomically (temporary file, then rename).
 *
 * <p>Descriptor ids use the family {@code format}: {@code format/safetensors}, {@code format/pytorch},
 * {@code format/diffusers}.
 */
public interface ModelFormat extends EaselPlugin {
    /** File name extensions this format reads, lower case without the dot (empty for folder formats). */
    List<String> extensions();

    /** Looks at the path (name, first bytes, marker files) without reading it whole. */
    Detection detect(Path path) throws IOException;

    /** Opens the path for lazy reading. */
    TensorSource open(Path path) throws IOException;

    /** Whether {@link #create(Path, WritePlan)} is supported. */
    default boolean canWrite() {
        return false;
    }

    /**
     * Starts writing {@code target} from a plan. Nothing appears at {@code target} until the sink is committed.
     *
     * @throws UnsupportedOperationException if this format is read-only
     */
    default TensorSink create(Path target, WritePlan plan) throws IOException {
        throw new UnsupportedOperationException(descriptor().id() + " cannot write files");
    }
}
