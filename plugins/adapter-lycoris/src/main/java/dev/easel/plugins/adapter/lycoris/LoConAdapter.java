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
 * LyCORIS {@code locon}/{@code lora} ({@code modules/locon.py}): the kohya keys, with convs trained by default and
 * the Tucker {@code lora_mid} of {@code use_tucker}. {@code ΔW = (α/r)·up·[mid]·down}; rsLoRA files need no special
 * case because LyCORIS stores {@code α·√r} so that α/r gives α/√r. Chosen over {@code lora/kohya} for the same keys
 * when the file says it was trained by LyCORIS ({@code ss_network_module = lycoris.kohya}) or uses the
 * {@code lycoris_} prefix.
 */
public final class LoConAdapter implements AdapterType {
    static final Set<String> KEYS = Set.of("lora_down.weight", "lora_up.weight", "lora_mid.weight", "alpha");
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("lycoris/locon", "1.0.0",
            "LyCORIS LoCon: W + m*(alpha/r)*up@[mid]@down, Tucker conv, conv layers by default");

    @Override
    public PluginDescriptor descriptor() {
        return DESCRIPTOR;
    }

    @Override
    public Optional<AdapterModule> recognize(String prefix, Map<String, TensorInfo> tensors) {
        TensorInfo down = tensors.get("lora_down.weight");
        if (down == null || !tensors.containsKey("lora_up.weight") || !KEYS.containsAll(tensors.keySet())
                || down.rank() < 2) {
            return Optional.empty();
        }
        String variant = tensors.containsKey("lora_mid.weight") ? "conv, tucker"
                : down.rank() == 4 ? "conv " + down.dim(2) + "x" + down.dim(3) : "linear";
        return Optional.of(new AdapterModule(prefix, tensors, (int) down.dim(0), null, variant));
    }

    @Override
    public NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight, NDManager manager) {
        return WeightMath.fit(rebuild(tensors, 1f), baseWeight, module.prefix());
    }

    @Override
    public NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight, double strength,
                         dev.easel.api.ParameterValues parameters, NDManager manager) {
        return WeightMath.fit(rebuild(tensors, (float) strength), baseWeight, module.prefix());
    }

    @Override
    public NDArray[] lowRankFactors(AdapterModule module, Map<String, NDArray> tensors, double strength,
                                    dev.easel.api.ParameterValues parameters, NDManager manager) {
        if (tensors.containsKey("lora_mid.weight")) {
            return null;
        }
        NDArray up = tensors.get("lora_up.weight");
        NDArray down = tensors.get("lora_down.weight");
        long out = up.getShape().get(0);
        long rank = down.getShape().get(0);
        if (up.getShape().size() != out * rank) {
            throw new IllegalArgumentException(module.prefix() + ": lora_up " + up.getShape() + " and lora_down "
                    + down.getShape() + " disagree on the rank");
        }
        float s = WeightMath.scale(tensors.get("alpha"), rank) * (float) strength;
        return new NDArray[] {up.reshape(out, rank).mul(s), down.reshape(rank, down.getShape().size() / rank)};
    }

    /** The scaled delta in its natural shape (also what DoRA decomposes). */
    static NDArray rebuild(Map<String, NDArray> t) {
        return rebuild(t, 1f);
    }

    /** The delta times {@code strength}, the scale applied to the small up factor rather than the product. */
    static NDArray rebuild(Map<String, NDArray> t, float strength) {
        NDArray down = t.get("lora_down.weight");
        NDArray mid = t.get("lora_mid.weight");
        float s = WeightMath.scale(t.get("alpha"), down.getShape().get(0)) * strength;
        NDArray up = t.get("lora_up.weight").mul(s);
        NDArray d;
        if (mid != null) {
            d = WeightMath.tucker(mid, up, down, true);
        } else {
            d = WeightMath.product(up, down);
            if (down.getShape().dimension() == 4) {
                var ds = down.getShape();
                d = d.reshape(up.getShape().get(0), ds.get(1), ds.get(2), ds.get(3));
            }
        }
        return d;
    }
}
