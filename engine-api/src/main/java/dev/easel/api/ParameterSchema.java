package dev.easel.api;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The ordered set of parameters a plugin accepts, and the single place where raw user text becomes typed
 * {@link ParameterValues}. Validation is strict: an unknown key is an error (a misspelt parameter must never be
 * silently ignored), as is a value out of range or of the wrong type.
 */
public final class ParameterSchema {
    /** A schema with no parameters. */
    public static final ParameterSchema EMPTY = new ParameterSchema(List.of());

    private final Map<String, ParameterSpec> specs;

    private ParameterSchema(List<ParameterSpec> specs) {
        Map<String, ParameterSpec> byName = new LinkedHashMap<>();
        for (ParameterSpec spec : specs) {
            if (byName.put(spec.name(), spec) != null) {
                throw new IllegalArgumentException("parameter '" + spec.name() + "' declared twice");
            }
        }
        this.specs = Collections.unmodifiableMap(byName);
    }

    /** A schema of the given specs, in order. */
    public static ParameterSchema of(ParameterSpec... specs) {
        return new ParameterSchema(List.of(specs));
    }

    /** A schema of the given specs, in order. */
    public static ParameterSchema of(List<ParameterSpec> specs) {
        return new ParameterSchema(specs);
    }

    /** The specs in declaration order. */
    public List<ParameterSpec> specs() {
        return List.copyOf(specs.values());
    }

    /** The spec of one parameter. */
    public Optional<ParameterSpec> spec(String name) {
        return Optional.ofNullable(specs.get(name));
    }

    /**
     * Validates raw values (as typed on a command line or read from a config) and fills in defaults.
     *
     * @param raw parameter name to value; values may be text or already typed ({@link Number}, {@link Boolean},
     *            {@link List} of numbers)
     * @throws InvalidParameterException naming the first offending parameter
     */
    public ParameterValues validate(Map<String, ?> raw) {
        Map<String, Object> typed = new LinkedHashMap<>();
        for (String key : raw.keySet()) {
            if (!specs.containsKey(key)) {
                throw new InvalidParameterException(key, "unknown parameter '" + key + "'"
                        + (specs.isEmpty() ? " (this plugin takes no parameters)" : "; known: " + specs.keySet()));
            }
        }
        for (ParameterSpec spec : specs.values()) {
            Object value = raw.get(spec.name());
            if (value == null) {
                if (spec.required()) {
                    throw new InvalidParameterException(spec.name(), "parameter '" + spec.name() + "' is required: "
                            + spec.description());
                }
                value = spec.defaultValue();
            }
            typed.put(spec.name(), convert(spec, value));
        }
        return new ParameterValues(typed);
    }

    private static Object convert(ParameterSpec spec, Object value) {
        String name = spec.name();
        try {
            switch (spec.type()) {
                case FLOAT: {
                    double d = value instanceof Number n ? n.doubleValue() : Double.parseDouble(value.toString().trim());
                    if (Double.isNaN(d)) {
                        throw new InvalidParameterException(name, "parameter '" + name + "' must be a number, not NaN");
                    }
                    checkRange(spec, d);
                    return d;
                }
                case INTEGER: {
                    long l;
                    if (value instanceof Number n) {
                        if (n.doubleValue() != Math.rint(n.doubleValue())) {
                            throw new NumberFormatException();
                        }
                        l = n.longValue();
                    } else {
                        l = Long.parseLong(value.toString().trim());
                    }
                    checkRange(spec, l);
                    return l;
                }
                case BOOLEAN: {
                    if (value instanceof Boolean b) {
                        return b;
                    }
                    String s = value.toString().trim().toLowerCase(Locale.ROOT);
                    if (s.equals("true") || s.equals("false")) {
                        return Boolean.parseBoolean(s);
                    }
                    throw new InvalidParameterException(name, "parameter '" + name + "' must be true or false, not '"
                            + value + "'");
                }
                case CHOICE: {
                    String s = value.toString().trim();
                    if (!spec.choices().contains(s)) {
                        throw new InvalidParameterException(name, "parameter '" + name + "' must be one of "
                                + spec.choices() + ", not '" + s + "'");
                    }
                    return s;
                }
                case FLOAT_LIST: {
                    List<Double> out = new ArrayList<>();
                    if (value instanceof List<?> list) {
                        for (Object o : list) {
                            out.add(o instanceof Number n ? n.doubleValue() : Double.parseDouble(o.toString().trim()));
                        }
                    } else if (!value.toString().isBlank()) {
                        for (String part : value.toString().split(",")) {
                            out.add(Double.parseDouble(part.trim()));
                        }
                    }
                    for (double d : out) {
                        checkRange(spec, d);
                    }
                    return List.copyOf(out);
                }
                default:
                    return value.toString();
            }
        } catch (NumberFormatException e) {
            throw new InvalidParameterException(name, "parameter '" + name + "' must be "
                    + (spec.type() == ParameterType.INTEGER ? "a whole number" : "a number")
                    + (spec.type() == ParameterType.FLOAT_LIST ? " list (comma-separated)" : "") + ", not '" + value
                    + "'");
        }
    }

    private static void checkRange(ParameterSpec spec, double d) {
        if ((spec.min() != null && d < spec.min()) || (spec.max() != null && d > spec.max())) {
            throw new InvalidParameterException(spec.name(), "parameter '" + spec.name() + "' = " + d
                    + " is outside its range [" + spec.min() + ", " + spec.max() + "]");
        }
    }
}
