package dev.easel.core.format.pytorch;

/** A {@code module.name} reference from a pickle's GLOBAL opcode; only a marker, nothing is imported. */
public record PyGlobal(String module, String name) {
    @Override
    public String toString() {
        return module + "." + name;
    }
}
