package dev.easel.core.merge;

/**
 * A merge that cannot start or cannot finish because of its inputs: mismatched architectures or shapes, a wrong
 * parameter or block weight, an unreadable model. The message names the file or key and the problem, and is shown
 * to users as is.
 */
public final class MergeException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public MergeException(String message) {
        super(message);
    }

    public MergeException(String message, Throwable cause) {
        super(message, cause);
    }
}
