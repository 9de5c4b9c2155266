package dev.easel.api.format;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file that cannot be read as its format says: truncated, corrupt, inconsistent, or (for pickles) asking to run
 * code. The message always starts with the file, then the problem, so it can be shown to users as one line.
 */
public class ModelFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;

    public ModelFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    public ModelFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
        this.file = file;
    }

    /** The offending file. */
    public Path file() {
        return file;
    }
}
