package dev.easel.core.format.pytorch;

/**
 * A pickle that cannot be interpreted safely: truncated, corrupt, or naming a global outside the allow-list. The
 * reader wraps it into a {@link dev.easel.api.format.ModelFormatException} naming the file.
 */
public class PickleException extends Exception {
    private static final long serialVersionUID = 1L;

    public PickleException(String message) {
        super(message);
    }
}
