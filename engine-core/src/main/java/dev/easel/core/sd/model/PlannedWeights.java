package dev.easel.core.sd.model;

import ai.djl.ndarray.NDArray;
import dev.easel.core.sd.nn.ParamKind;
import dev.easel.core.sd.nn.WeightSource;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** Records the keys, shapes and kinds a network asks for; allocates nothing (builds the full SD layout in no memory). */
public final class PlannedWeights implements WeightSource {
    /** One planned parameter. */
    public record Planned(long[] shape, ParamKind kind) {
    }

    private final Map<String, Planned> keys = new LinkedHashMap<>();

    @Override
    public NDArray tensor(String key, long[] shape, ParamKind kind) {
        if (keys.put(key, new Planned(shape.clone(), kind)) != null) {
            throw new IllegalStateException("network asks twice for " + key);
        }
        return null;
    }

    @Override
    public boolean planning() {
        return true;
    }

    /** The planned keys in the order the networks asked for them. */
    public Map<String, Planned> keys() {
        return Collections.unmodifiableMap(keys);
    }
}
