package dev.easel.api;

/** The value type of one {@link ParameterSpec}. */
public enum ParameterType {
    /** A 64-bit float; {@code min}/{@code max} bound it. */
    FLOAT,
    /** A 64-bit integer; {@code min}/{@code max} bound it. */
    INTEGER,
    /** {@code true} or {@code false}. */
    BOOLEAN,
    /** Free text. */
    STRING,
    /** One of {@link ParameterSpec#choices()}. */
    CHOICE,
    /** A comma-separated list of floats (for example per-block weights). */
    FLOAT_LIST
}
