package dev.easel.plugins.adapter.kohya;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.easel.api.ParameterSchema;
import dev.easel.api.ParameterSpec;
import dev.easel.api.ParameterValues;
import dev.easel.api.PluginDescriptor;
import dev.easel.api.adapter.AdapterModule;
import dev.easel.api.adapter.AdapterType;
import dev.easel.api.tensor.TensorInfo;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * LoRA as PEFT and diffusers save it: {@code lora_A.weight} (down, {@code r×in}) and {@code lora_B.weight} (up),
 * also under the older diffusers spellings ({@code lora.down.weight}, {@code lora_linear_layer.down.weight}, the
 * attention-processor {@code to_q_lora.down.weight}) and PEFT's {@code lora_A.default.weight}. The files hold no
 * alpha: the scale is {@code lora_alpha / r} (or {@code / sqrt(r)} with rsLoRA) from the LoraConfig the engine reads
 * from the file's {@code lora_adapter_metadata} and passes as parameters; without one, alpha = r (scale 1), the
 * convention of diffusers' {@code get_peft_kwargs}.
 */
public final class PeftLoraAdapter implements AdapterType {
    /** Down/up suffix pairs, in the order they are tried. */
    static final List<String[]> PAIRS = List.of(
            new String[] {"lora_A.weight", "lora_B.weight"},
            new String[] {"lora_A.default.weight", "lora_B.default.weight"},
            new String[] {"lora.down.weight", "lora.up.weight"},
            new String[] {"lora_linear_layer.down.weight", "lora_linear_layer.up.weight"},
            new String[] {"down.weight", "up.weight"});
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("lora/peft", "1.0.0",
            "PEFT/diffusers LoRA: W + m*(lora_alpha/r)*B@A, alpha from the file's LoraConfig (default r)");
    private static final ParameterSchema PARAMETERS = ParameterSchema.of(
            ParameterSpec.floating("lora_alpha", 0.0, 0.0, 1e6,
                    "LoraConfig lora_alpha for this module; 0 means alpha = r (scale 1)"),
            ParameterSpec.bool("use_rslora", false, "rsLoRA: scale = lora_alpha / sqrt(r)"));

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
        String[] pair = pair(tensors.keySet());
        if (pair == null || tensors.size() != 2) {
            return Optional.empty();
        }
        // The bare down/up pair is only the old attention-processor form (to_q_lora.down.weight).
        if (pair[0].equals("down.weight") && !prefix.endsWith("_lora")) {
            return Optional.empty();
        }
        TensorInfo down = tensors.get(pair[0]);
        if (down.rank() < 2) {
            return Optional.empty();
        }
        String variant = pair[0].startsWith("lora_A") ? "peft" : "diffusers (" + pair[0] + ")";
        return Optional.of(new AdapterModule(prefix, tensors, (int) down.dim(0), null,
                down.rank() == 4 ? variant + ", conv" : variant));
    }

    static String[] pair(java.util.Set<String> keys) {
        for (String[] p : PAIRS) {
            if (keys.contains(p[0]) && keys.contains(p[1])) {
                return p;
            }
        }
        return null;
    }

    @Override
    public NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight, NDManager manager) {
        return delta(module, tensors, baseWeight, 1.0, PARAMETERS.validate(Map.of()), manager);
    }

    @Override
    public NDArray[] lowRankFactors(AdapterModule module, Map<String, NDArray> tensors, double strength,
                                    ParameterValues parameters, NDManager manager) {
        String[] pair = pair(tensors.keySet());
        return LowRankDelta.factors(tensors.get(pair[1]), tensors.get(pair[0]),
                scale(tensors.get(pair[0]), parameters) * strength, module.prefix());
    }

    private static double scale(NDArray down, ParameterValues parameters) {
        long r = down.getShape().get(0);
        double alpha = parameters.getDouble("lora_alpha");
        if (alpha == 0.0) {
            alpha = r;
        }
        return parameters.getBoolean("use_rslora") ? alpha / Math.sqrt(r) : alpha / r;
    }

    @Override
    public NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight, double strength,
                         ParameterValues parameters, NDManager manager) {
        String[] pair = pair(tensors.keySet());
        NDArray down = tensors.get(pair[0]);
        NDArray up = tensors.get(pair[1]);
        double scale = scale(down, parameters);
        return LowRankDelta.product(up.mul((float) (scale * strength)), down, null,
                baseWeight == null ? null : baseWeight.getShape(), module.prefix());
    }
}
