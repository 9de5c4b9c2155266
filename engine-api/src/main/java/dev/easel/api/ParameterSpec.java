package dev.easel.api;

import java.util.List;
import java.util.Objects;

/**
 * Declares one parameter of a plugin: its name as users type it, its type, default, bounds and meaning.
 *
 * <p>Names follow the tools users already know (sd-mecha and SuperMerger for merges: {@code alpha}; kohya for
 * training: {@code network_dim}), so configs carry over unchanged.
 *
 * @param name         the key in configs and {@code --param name=value}
 * @param type         the value type
 * @param defaultValue the default as text, or {@code null} when the parameter is required
 * @param min          inclusive lower bound for numbers, or {@code null}
 * @param max          inclusive upper bound for numbers, or {@code null}
 * @param choices      allowed values of a {@link ParameterType#CHOICE}, else empty
 * @param perBlock     whether the value may also be given per model block (block-weighted merges)
 * @param description  one human sentence
 */
public record ParameterSpec(String name, ParameterType type, String defaultValue, Double min, Double max,
                            List<String> choices, boolean perBlock, String description) {
    public ParameterSpec {
        Objects.requireNonNull(name, "name is null");
        Objects.requireNonNull(type, "type is null");
        Objects.requireNonNull(description, "description is null");
        choices = List.copyOf(choices == null ? List.of() : choices);
        if (type == ParameterType.CHOICE && choices.isEmpty()) {
            throw new IllegalArgumentException("choice parameter '" + name + "' declares no choices");
        }
    }

    /** Whether a value must be given. */
    public boolean required() {
        return defaultValue == null;
    }

    /** A float parameter within {@code [min, max]}. */
    public static ParameterSpec floating(String name, double defaultValue, double min, double max, String description) {
        return new ParameterSpec(name, ParameterType.FLOAT, Double.toString(defaultValue), min, max, List.of(), false,
                description);
    }

    /** An integer parameter within {@code [min, max]}. */
    public static ParameterSpec integer(String name, long defaultValue, long min, long max, String description) {
        return new ParameterSpec(name, ParameterType.INTEGER, Long.toString(defaultValue), (double) min, (double) max,
                List.of(), false, description);
    }

    /** A boolean parameter. */
    public static ParameterSpec bool(String name, boolean defaultValue, String description) {
        return new ParameterSpec(name, ParameterType.BOOLEAN, Boolean.toString(defaultValue), null, null, List.of(),
                false, description);
    }

    /** A free-text parameter; {@code defaultValue} may be {@code null} for a required one. */
    public static ParameterSpec text(String name, String defaultValue, String description) {
        return new ParameterSpec(name, ParameterType.STRING, defaultValue, null, null, List.of(), false, description);
    }

    /** One of several named choices. */
    public static ParameterSpec choice(String name, String defaultValue, List<String> choices, String description) {
        return new ParameterSpec(name, ParameterType.CHOICE, defaultValue, null, null, choices, false, description);
    }

    /** The same spec, marked as accepting per-block values. */
    public ParameterSpec withPerBlock() {
        return new ParameterSpec(name, type, defaultValue, min, max, choices, true, description);
    }
}
