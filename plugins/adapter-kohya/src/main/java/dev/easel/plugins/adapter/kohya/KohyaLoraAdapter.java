package dev.easel.plugins.adapter.kohya;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.easel.api.ParameterSchema;
import dev.easel.api.ParameterSpec;
import dev.easel.api.ParameterValues;
import dev.easel.api.PluginDescriptor;
import dev.easel.api.adapter.AdapterModule;
import dev.easel.api.adapter.AdapterType;
import dev.easel.api.adapter.TrainableAdapter;
import dev.easel.api.model.NetworkModule;
import dev.easel.api.tensor.TensorInfo;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * LoRA as kohya's {@code networks/lora.py} saves it: {@code lora_down.weight} ({@code r×in}, or {@code r×in×kh×kw}
 * for LoCon convs), {@code lora_up.weight} ({@code out×r}, or {@code out×r×1×1}), a 0-d {@code alpha}
 * (missing: scale 1), and the Tucker {@code lora_mid.weight} that LyCORIS adds for convs (merged as LyCORIS, ComfyUI
 * and A1111 do; kohya's own {@code merge_lora.py} does not know it). A1111's optional per-module {@code scale}
 * (replacing alpha/rank) and {@code bias} keys are honoured.
 */
public final class KohyaLoraAdapter implements AdapterType {
    static final Set<String> KEYS = Set.of("lora_down.weight", "lora_up.weight", "lora_mid.weight", "alpha", "scale",
            "bias");
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("lora/kohya", "1.0.1",
            "kohya sd-scripts LoRA/LoCon: W + m*(alpha/r)*up@down, conv 3x3 with 1x1 up, Tucker mid, missing alpha = r");
    private static final ParameterSchema PARAMETERS = ParameterSchema.of(
            ParameterSpec.integer("network_dim", 4, 1, 4096, "Rank of a new adapter (kohya --network_dim)"),
            ParameterSpec.floating("network_alpha", 1.0, 0.0, 1e6,
                    "Alpha of a new adapter; scale = alpha/rank; 0 means alpha = rank (kohya --network_alpha)"),
            ParameterSpec.floating("network_dropout", 0.0, 0.0, 1.0,
                    "Dropout on the rank activations after lora_down, as kohya applies it (--network_dropout)"),
            ParameterSpec.floating("rank_dropout", 0.0, 0.0, 1.0,
                    "Per-sample rank mask with 1/(1-p) rescaling (kohya network_args rank_dropout)"),
            ParameterSpec.floating("module_dropout", 0.0, 0.0, 1.0,
                    "Probability of skipping the adapter for a step (kohya network_args module_dropout)"));

    @Override
    public PluginDescriptor descriptor() {
        return DESCRIPTOR;
    }

    @Override
    public ParameterSchema parameters() {
        return PARAMETERS;
    }

    @Override
    public Optional<AdapterModule> recognize(String prefix, Map<String, TensorInfo> tensors) {
        TensorInfo down = tensors.get("lora_down.weight");
        TensorInfo up = tensors.get("lora_up.weight");
        if (down == null || up == null || !KEYS.containsAll(tensors.keySet()) || down.rank() < 2) {
            return Optional.empty();
        }
        return Optional.of(new AdapterModule(prefix, tensors, (int) down.dim(0), null, variant(tensors)));
    }

    static String variant(Map<String, TensorInfo> tensors) {
        TensorInfo down = tensors.get("lora_down.weight");
        if (tensors.containsKey("lora_mid.weight")) {
            TensorInfo mid = tensors.get("lora_mid.weight");
            return "conv " + mid.dim(2) + "x" + mid.dim(3) + ", tucker mid";
        }
        if (down.rank() == 4) {
            return "conv " + down.dim(2) + "x" + down.dim(3) + (down.dim(2) * down.dim(3) > 1 ? ", 1x1 up" : "");
        }
        return "linear";
    }

    @Override
    public NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight, NDManager manager) {
        return delta(module, tensors, baseWeight, 1.0, PARAMETERS.validate(Map.of()), manager);
    }

    @Override
    public NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight, double strength,
                         ParameterValues parameters, NDManager manager) {
        NDArray up = tensors.get("lora_up.weight");
        NDArray down = tensors.get("lora_down.weight");
        float s = LowRankDelta.scale(tensors.get("alpha"), tensors.get("scale"), down.getShape().get(0));
        // Scale the small factor, not the out x in product: one pass over the big matrix fewer.
        return LowRankDelta.product(up.mul((float) (s * strength)), down, tensors.get("lora_mid.weight"),
                baseWeight == null ? null : baseWeight.getShape(), module.prefix());
    }

    @Override
    public NDArray[] lowRankFactors(AdapterModule module, Map<String, NDArray> tensors, double strength,
                                    ParameterValues parameters, NDManager manager) {
        if (tensors.containsKey("lora_mid.weight")) {
            return null;
        }
        return LowRankDelta.factors(tensors.get("lora_up.weight"), tensors.get("lora_down.weight"),
                LowRankDelta.scale(tensors.get("alpha"), tensors.get("scale"),
                        tensors.get("lora_down.weight").getShape().get(0)) * strength, module.prefix());
    }

    @Override
    public boolean changesBias(AdapterModule module) {
        return module.tensors().containsKey("bias");
    }

    @Override
    public NDArray biasDelta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseBias, double strength,
                             ParameterValues parameters, NDManager manager) {
        NDArray bias = tensors.get("bias");
        return bias == null ? null : bias.mul((float) strength);
    }

    @Override
    public TrainableAdapter createTrainable(NetworkModule target, ParameterValues parameters, NDManager manager,
                                            long seed) {
        return new KohyaLoraTrainable(target, parameters, manager, seed);
    }
}
