package dev.easel.api;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Typed parameter values produced by {@link ParameterSchema#validate(Map)}; every declared parameter is present,
 * defaults filled in. Getters throw {@link InvalidParameterException} if asked for an undeclared name or a wrong
 * type, which is a plugin bug rather than user error.
 */
public final class ParameterValues {
    private final Map<String, Object> values;

    /** Wraps already-typed values. Prefer {@link ParameterSchema#validate(Map)}. */
    public ParameterValues(Map<String, Object> values) {
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    public double getDouble(String name) {
        return ((Number) get(name)).doubleValue();
    }

    public long getLong(String name) {
        return ((Number) get(name)).longValue();
    }

    public int getInt(String name) {
        return Math.toIntExact(getLong(name));
    }

    public boolean getBoolean(String name) {
        return (Boolean) get(name);
    }

    public String getString(String name) {
        Object v = get(name);
        return v == null ? null : v.toString();
    }

    @SuppressWarnings("unchecked")
    public List<Double> getDoubles(String name) {
        return (List<Double>) get(name);
    }

    /** Whether the value was declared (it always is after validation). */
    public boolean has(String name) {
        return values.containsKey(name);
    }

    /** A copy of this set with one value replaced, used to apply per-block values. */
    public ParameterValues with(String name, Object value) {
        Map<String, Object> copy = new LinkedHashMap<>(values);
        copy.put(name, value);
        return new ParameterValues(copy);
    }

    /** All values, in schema order. */
    public Map<String, Object> asMap() {
        return values;
    }

    private Object get(String name) {
        if (!values.containsKey(name)) {
            throw new InvalidParameterException(name, "parameter '" + name + "' is not declared by the plugin");
        }
        return values.get(name);
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
