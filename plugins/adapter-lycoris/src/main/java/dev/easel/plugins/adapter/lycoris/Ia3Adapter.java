package dev.easel.plugins.adapter.lycoris;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.easel.api.PluginDescriptor;
import dev.easel.api.adapter.AdapterModule;
import dev.easel.api.adapter.AdapterType;
import dev.easel.api.tensor.TensorInfo;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * LyCORIS (IA)³ ({@code modules/ia3.py}): {@code W' = W ⊙ (1 + m·w)}, scaling output rows ({@code on_input = 0})
 * or input columns ({@code on_input = 1}), so {@code ΔW = m · W ⊙ w}. The bias is not scaled (the merged form).
 */
public final class Ia3Adapter implements AdapterType {
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("lycoris/ia3", "1.0.0",
            "LyCORIS (IA)^3: W * (1 + m*w) per output row or input column (on_input)");

    @Override
    public PluginDescriptor descriptor() {
        return DESCRIPTOR;
    }

    @Override
    public Optional<AdapterModule> recognize(String prefix, Map<String, TensorInfo> tensors) {
        if (!tensors.containsKey("weight") || !tensors.containsKey("on_input")
                || !Set.of("weight", "on_input").containsAll(tensors.keySet())) {
            return Optional.empty();
        }
        return Optional.of(new AdapterModule(prefix, tensors, 0, null, "ia3"));
    }

    @Override
    public NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight, NDManager manager) {
        NDArray w = WeightMath.requireBase(baseWeight, module.prefix(), "ia3");
        NDArray v = tensors.get("weight");
        boolean onInput = WeightMath.scalar(tensors.get("on_input")) != 0f;
        long n = v.getShape().size();
        int dims = w.getShape().dimension();
        long[] shape = WeightMath.ones(dims);
        if (onInput) {
            shape[1] = n;
        } else {
            shape[0] = n;
        }
        if ((onInput ? w.getShape().get(1) : w.getShape().get(0)) != n) {
            throw new IllegalArgumentException(module.prefix() + ": ia3 weight of " + n + " values does not match the "
                    + (onInput ? "input" : "output") + " size of " + w.getShape());
        }
        return w.mul(v.reshape(shape));
    }
}
