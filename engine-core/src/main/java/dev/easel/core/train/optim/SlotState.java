package dev.easel.core.train.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/** Per-tensor optimiser slots (moments, step counts) by name, kept out of the per-step scope. */
final class SlotState {
    private final Map<String, NDArray> slots = new TreeMap<>();

    /** The slot, created as zeros like {@code like} on first use. */
    NDArray slot(int group, int index, String name, NDArray like) {
        return slots.computeIfAbsent(key(group, index, name), k -> {
            NDArray z = like.getManager().zeros(like.getShape(), like.getDataType());
            NDScope.unregister(z);
            return z;
        });
    }

    /** Whether a slot exists. */
    boolean has(int group, int index, String name) {
        return slots.containsKey(key(group, index, name));
    }

    Map<String, NDArray> snapshot() {
        return new LinkedHashMap<>(slots);
    }

    void restore(Map<String, NDArray> state, ai.djl.ndarray.NDManager manager) {
        slots.clear();
        state.forEach((k, v) -> {
            NDArray copy = v.duplicate();
            copy.attach(manager);
            NDScope.unregister(copy);
            slots.put(k, copy);
        });
    }

    static String key(int group, int index, String name) {
        return "g" + group + ".p" + index + "." + name;
    }
}
