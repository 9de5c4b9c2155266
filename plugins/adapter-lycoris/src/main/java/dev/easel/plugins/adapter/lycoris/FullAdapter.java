package dev.easel.plugins.adapter.lycoris;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.easel.api.ParameterValues;
import dev.easel.api.PluginDescriptor;
import dev.easel.api.adapter.AdapterModule;
import dev.easel.api.adapter.AdapterType;
import dev.easel.api.tensor.TensorInfo;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** LyCORIS full / diff ({@code modules/full.py}): {@code W' = W + m·diff}, {@code b' = b + m·diff_b}. */
public final class FullAdapter implements AdapterType {
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("lycoris/full", "1.0.0",
            "LyCORIS full: W + m*diff, b + m*diff_b");

    @Override
    public PluginDescriptor descriptor() {
        return DESCRIPTOR;
    }

    @Override
    public Optional<AdapterModule> recognize(String prefix, Map<String, TensorInfo> tensors) {
        if (!tensors.containsKey("diff") || !Set.of("diff", "diff_b").containsAll(tensors.keySet())) {
            return Optional.empty();
        }
        return Optional.of(new AdapterModule(prefix, tensors, 0, null,
                tensors.containsKey("diff_b") ? "weight and bias" : "weight"));
    }

    @Override
    public NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight, NDManager manager) {
        return WeightMath.fit(tensors.get("diff").duplicate(), baseWeight, module.prefix());
    }

    @Override
    public boolean changesBias(AdapterModule module) {
        return module.tensors().containsKey("diff_b");
    }

    @Override
    public NDArray biasDelta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseBias, double strength,
                             ParameterValues parameters, NDManager manager) {
        NDArray b = tensors.get("diff_b");
        return b == null ? null : WeightMath.fit(b.mul((float) strength), baseBias, module.prefix() + ".diff_b");
    }
}
