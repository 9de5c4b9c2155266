package dev.easel.core.merge;

import dev.easel.api.tensor.TensorSink;
import dev.easel.api.tensor.TensorSource;
import dev.easel.api.tensor.WritePlan;
import java.io.IOException;
import java.nio.file.Path;

/**
 * How the merge engine opens its inputs and creates its output. The engine only needs the {@code engine-api}
 * tensor interfaces, so the file formats stay swappable (and tests use in-memory models).
 */
public interface ModelIo {
    /** Opens a model for lazy reading. */
    TensorSource open(Path path) throws IOException;

    /** Starts an atomic write of {@code target}; nothing appears there until the sink is committed. */
    TensorSink create(Path target, WritePlan plan) throws IOException;
}
