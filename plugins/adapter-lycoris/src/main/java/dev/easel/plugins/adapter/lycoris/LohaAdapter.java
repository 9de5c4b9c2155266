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
 * LyCORIS LoHa ({@code modules/loha.py}): {@code ΔW = (α/r)·(w1_a@w1_b) ⊙ (w2_a@w2_b)} with {@code r =
 * hada_w1_b.shape[0]}, or with Tucker cores {@code hada_t1}/{@code hada_t2} (then {@code w_a} is {@code r×out}).
 * The single scale follows LyCORIS's forward, ComfyUI and A1111, not LyCORIS's own merge path, which applies it
 * twice.
 */
public final class LohaAdapter implements AdapterType {
    static final Set<String> KEYS = Set.of("hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b", "hada_t1", "hada_t2",
            "alpha");
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("lycoris/loha", "1.0.0",
            "LyCORIS LoHa: W + m*(alpha/r)*(w1a@w1b)*(w2a@w2b), Tucker cores for convs");

    @Override
    public PluginDescriptor descriptor() {
        return DESCRIPTOR;
    }

    @Override
    public Optional<AdapterModule> recognize(String prefix, Map<String, TensorInfo> tensors) {
        if (!tensors.keySet().containsAll(Set.of("hada_w1_a", "hada_w1_b", "hada_w2_a", "hada_w2_b"))
                || !KEYS.containsAll(tensors.keySet())) {
            return Optional.empty();
        }
        boolean tucker = tensors.containsKey("hada_t1") && tensors.containsKey("hada_t2");
        return Optional.of(new AdapterModule(prefix, tensors, (int) tensors.get("hada_w1_b").dim(0), null,
                tucker ? "tucker" : "plain"));
    }

    @Override
    public NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight, NDManager manager) {
        return WeightMath.fit(rebuild(tensors), baseWeight, module.prefix());
    }

    static NDArray rebuild(Map<String, NDArray> t) {
        NDArray w1a = t.get("hada_w1_a");
        NDArray w1b = t.get("hada_w1_b");
        NDArray w2a = t.get("hada_w2_a");
        NDArray w2b = t.get("hada_w2_b");
        float s = WeightMath.scale(t.get("alpha"), w1b.getShape().get(0));
        NDArray d;
        if (t.containsKey("hada_t1") && t.containsKey("hada_t2")) {
            d = WeightMath.tucker(t.get("hada_t1"), w1a, w1b, false)
                    .mul(WeightMath.tucker(t.get("hada_t2"), w2a, w2b, false));
        } else {
            d = WeightMath.product(w1a, w1b).mul(WeightMath.product(w2a, w2b));
        }
        return d.muli(s);
    }
}
