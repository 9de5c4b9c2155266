package dev.easel.core.adapter;

/** An adapter file that cannot be used as asked; the message names the file and the key or module. */
public final class AdapterException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public AdapterException(String message) {
        super(message);
    }

    public AdapterException(String message, Throwable cause) {
        super(message, cause);
    }
}
