package dev.easel.core.sd.model;

import java.io.IOException;
import java.nio.file.Path;

/** A checkpoint that does not fit the network: a missing, extra or mis-shaped key, or an unreadable config. */
public final class ModelLoadException extends IOException {
    public ModelLoadException(Path file, String problem) {
        super((file == null ? "" : file + ": ") + problem);
    }

    public ModelLoadException(Path file, String problem, Throwable cause) {
        super((file == null ? "" : file + ": ") + problem, cause);
    }

    /** Unchecked carrier, for the network constructors that take parameters through {@code WeightSource}. */
    public static final class Unchecked extends RuntimeException {
        public Unchecked(ModelLoadException cause) {
            super(cause.getMessage(), cause);
        }

        @Override
        public synchronized ModelLoadException getCause() {
            return (ModelLoadException) super.getCause();
        }
    }
}
