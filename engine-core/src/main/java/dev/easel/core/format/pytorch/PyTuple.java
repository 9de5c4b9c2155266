package dev.easel.core.format.pytorch;

import java.util.List;

/** A Python tuple from a pickle (lists are {@link java.util.List}s, tuples are kept apart because keys use them). */
public record PyTuple(List<Object> items) {
    public PyTuple {
        items = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(items));
    }

    public int size() {
        return items.size();
    }

    public Object get(int i) {
        return items.get(i);
    }
}
