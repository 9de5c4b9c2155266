package dev.easel.core.format.pytorch;

/** Python's {@code None} (Java {@code null} is avoided so that maps and lists can hold it unambiguously). */
public enum PyNone {
    NONE;

    @Override
    public String toString() {
        return "None";
    }
}
