package dev.easel.api.format;

/**
 * How sure a {@link ModelFormat} is that it can read a path. The host opens a path with the format that answers
 * most surely; a tie between formats at {@link #CONTENT} is reported as ambiguous rather than guessed.
 */
public enum Detection {
    /** Not this format. */
    NO,
    /** The name fits (extension), the content was not checked or is inconclusive. */
    NAME,
    /** The content fits (magic bytes, a valid header, a marker file). */
    CONTENT
}
