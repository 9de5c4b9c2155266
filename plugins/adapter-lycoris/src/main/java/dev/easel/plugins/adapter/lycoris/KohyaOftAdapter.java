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
 * kohya's OFT ({@code networks/oft.py}, prefix {@code oft_unet_}): {@code oft_blocks} of {@code dim} blocks of
 * {@code out/dim}, with Q always rescaled by {@code (min(‖Q‖, alpha·out) + 1e-8)/(‖Q‖ + 1e-8)} (alpha default 1e-3),
 * {@code R_m = m·(R − I) + I}, {@code W'_k = R_mᵀ·W_k}. Differs from {@code lycoris/oft} in prefix, in the block
 * layout rule and in always applying the constraint.
 */
public final class KohyaOftAdapter implements AdapterType {
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("kohya/oft", "1.0.0",
            "kohya sd-scripts OFT (oft_unet_): rotations R^T W with the constraint alpha*out always applied");

    @Override
    public PluginDescriptor descriptor() {
        return DESCRIPTOR;
    }

    @Override
    public Optional<AdapterModule> recognize(String prefix, Map<String, TensorInfo> tensors) {
        TensorInfo blocks = tensors.get("oft_blocks");
        if (!prefix.startsWith("oft_") || blocks == null || blocks.rank() != 3
                || !Set.of("oft_blocks", "alpha").containsAll(tensors.keySet())) {
            return Optional.empty();
        }
        return Optional.of(new AdapterModule(prefix, tensors, (int) blocks.dim(0), null,
                blocks.dim(0) + " blocks of " + blocks.dim(1)));
    }

    @Override
    public NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight, NDManager manager) {
        return delta(module, tensors, baseWeight, 1.0, parameters().validate(Map.of()), manager);
    }

    @Override
    public NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight, double strength,
                         ParameterValues parameters, NDManager manager) {
        NDArray w = WeightMath.requireBase(baseWeight, module.prefix(), "oft");
        NDArray alpha = tensors.get("alpha");
        // kohya's default constraint factor when a file omits it.
        double a = alpha == null ? 1e-3 : WeightMath.scalar(alpha);
        NDArray r = WeightMath.cayley(tensors.get("oft_blocks"), a * w.getShape().get(0), true, manager);
        return DiagOftAdapter.rotate(DiagOftAdapter.interpolate(r, strength, manager), w, module.prefix()).subi(w);
    }
}
