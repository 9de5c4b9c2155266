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
 * LyCORIS LoKr ({@code modules/lokr.py}): {@code ΔW = s · w1 ⊗ w2}, each factor full ({@code lokr_w1},
 * {@code lokr_w2}) or low-rank ({@code _a @ _b}), {@code w2} optionally with a Tucker core {@code lokr_t2}. As
 * ComfyUI and A1111 compute it, {@code s = α/r} with r the rank of the decomposed factor ({@code lokr_w1_b} first,
 * else {@code lokr_w2_b}), and {@code s = 1} when both factors are full (LyCORIS then forces α = r).
 */
public final class LokrAdapter implements AdapterType {
    static final Set<String> KEYS = Set.of("lokr_w1", "lokr_w1_a", "lokr_w1_b", "lokr_w2", "lokr_w2_a", "lokr_w2_b",
            "lokr_t2", "alpha");
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("lycoris/lokr", "1.0.0",
            "LyCORIS LoKr: W + m*s*kron(w1, w2), factors full or low-rank, Tucker w2 for convs");

    @Override
    public PluginDescriptor descriptor() {
        return DESCRIPTOR;
    }

    @Override
    public Optional<AdapterModule> recognize(String prefix, Map<String, TensorInfo> tensors) {
        boolean w1 = tensors.containsKey("lokr_w1")
                || (tensors.containsKey("lokr_w1_a") && tensors.containsKey("lokr_w1_b"));
        boolean w2 = tensors.containsKey("lokr_w2")
                || (tensors.containsKey("lokr_w2_a") && tensors.containsKey("lokr_w2_b"));
        if (!w1 || !w2 || !KEYS.containsAll(tensors.keySet())) {
            return Optional.empty();
        }
        int rank = tensors.containsKey("lokr_w1_b") ? (int) tensors.get("lokr_w1_b").dim(0)
                : tensors.containsKey("lokr_w2_b") ? (int) tensors.get("lokr_w2_b").dim(0) : 0;
        String variant = (tensors.containsKey("lokr_w1") ? "w1 full" : "w1 low-rank") + ", "
                + (tensors.containsKey("lokr_w2") ? "w2 full" : tensors.containsKey("lokr_t2") ? "w2 tucker"
                : "w2 low-rank");
        return Optional.of(new AdapterModule(prefix, tensors, rank, null, variant));
    }

    @Override
    public NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight, NDManager manager) {
        return WeightMath.fit(rebuild(tensors, baseWeight), baseWeight, module.prefix());
    }

    static NDArray rebuild(Map<String, NDArray> t, NDArray baseWeight) {
        NDArray w1 = t.containsKey("lokr_w1") ? t.get("lokr_w1")
                : WeightMath.product(t.get("lokr_w1_a"), t.get("lokr_w1_b"));
        NDArray w2;
        if (t.containsKey("lokr_w2")) {
            w2 = t.get("lokr_w2");
        } else if (t.containsKey("lokr_t2")) {
            w2 = WeightMath.tucker(t.get("lokr_t2"), t.get("lokr_w2_a"), t.get("lokr_w2_b"), false);
        } else {
            w2 = WeightMath.product(t.get("lokr_w2_a"), t.get("lokr_w2_b"));
            NDArray w2b = t.get("lokr_w2_b");
            if (w2b.getShape().dimension() == 4) {
                var s = w2b.getShape();
                w2 = w2.reshape(w2.getShape().get(0), s.get(1), s.get(2), s.get(3));
            }
        }
        float s = 1f;
        if (t.containsKey("lokr_w1_b")) {
            s = WeightMath.scale(t.get("alpha"), t.get("lokr_w1_b").getShape().get(0));
        } else if (t.containsKey("lokr_w2_b")) {
            s = WeightMath.scale(t.get("alpha"), t.get("lokr_w2_b").getShape().get(0));
        }
        NDArray w1m = w1.reshape(w1.getShape().get(0), w1.getShape().size() / w1.getShape().get(0));
        return WeightMath.kron(w1m, w2).muli(s);
    }
}
