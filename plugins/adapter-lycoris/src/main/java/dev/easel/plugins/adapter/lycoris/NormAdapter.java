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

/**
 * LyCORIS norm training ({@code modules/norms.py}): {@code γ' = γ + m·w_norm}, {@code β' = β + m·b_norm} on
 * LayerNorm/GroupNorm. A1111 requires both keys; a file with only one is still applied here (ComfyUI does too).
 */
public final class NormAdapter implements AdapterType {
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("lycoris/norm", "1.0.0",
            "LyCORIS norm layers: gamma + m*w_norm, beta + m*b_norm");

    @Override
    public PluginDescriptor descriptor() {
        return DESCRIPTOR;
    }

    @Override
    public Optional<AdapterModule> recognize(String prefix, Map<String, TensorInfo> tensors) {
        if (tensors.isEmpty() || !Set.of("w_norm", "b_norm").containsAll(tensors.keySet())) {
            return Optional.empty();
        }
        return Optional.of(new AdapterModule(prefix, tensors, 0, null, "norm"));
    }

    @Override
    public NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight, NDManager manager) {
        NDArray w = tensors.get("w_norm");
        if (w == null) {
            return baseWeight == null ? null : manager.zeros(baseWeight.getShape());
        }
        return WeightMath.fit(w.duplicate(), baseWeight, module.prefix());
    }

    @Override
    public boolean changesBias(AdapterModule module) {
        return module.tensors().containsKey("b_norm");
    }

    @Override
    public NDArray biasDelta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseBias, double strength,
                             ParameterValues parameters, NDManager manager) {
        NDArray b = tensors.get("b_norm");
        return b == null ? null : WeightMath.fit(b.mul((float) strength), baseBias, module.prefix() + ".b_norm");
    }
}
