package dev.easel.plugins.adapter.lycoris;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.easel.api.ParameterSchema;
import dev.easel.api.ParameterSpec;
import dev.easel.api.ParameterValues;
import dev.easel.api.PluginDescriptor;
import dev.easel.api.adapter.AdapterModule;
import dev.easel.api.adapter.AdapterType;
import dev.easel.api.tensor.TensorInfo;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * DoRA weight decomposition ({@code dora_wd}) on a LoCon, LoHa or LoKr module, or PEFT's
 * {@code lora_magnitude_vector}: {@code V = W + s·ΔW}, {@code W' = V ⊙ dora_scale / ‖V‖}.
 *
 * <p>The norm axis is read from the shape of {@code dora_scale} ({@code out×1} or 1-d: per output row, LyCORIS ≥
 * 3.2 and PEFT; {@code 1×in}: per input column, LyCORIS 2.2-3.1 and A1111), or forced with {@code axis}. The
 * strength follows LyCORIS ({@code W' = V ⊙ (m·(scale/‖V‖ − 1) + 1)}) or, with {@code strength_mode=a1111}, A1111
 * and ComfyUI ({@code W' = W + m·(dora(V) − W)}); both agree at m = 1.
 */
public final class DoraAdapter implements AdapterType {
    private static final float EPS = 1.1920929e-7f;
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("lycoris/dora", "1.0.0",
            "DoRA (dora_scale on LoCon/LoHa/LoKr, PEFT magnitude): V*scale/|V| per output row or input column");
    private static final ParameterSchema PARAMETERS = ParameterSchema.of(
            ParameterSpec.choice("axis", "auto", List.of("auto", "output", "input"),
                    "Norm axis: auto reads it from dora_scale's shape; output = LyCORIS>=3.2/PEFT, input = LyCORIS<3.2/A1111"),
            ParameterSpec.choice("strength_mode", "lycoris", List.of("lycoris", "a1111"),
                    "How the strength m enters: lycoris V*(m*(scale/|V|-1)+1), a1111/ComfyUI W+m*(dora(V)-W)"));

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
        String magnitudeKey = tensors.containsKey("dora_scale") ? "dora_scale"
                : tensors.containsKey("lora_magnitude_vector") ? "lora_magnitude_vector" : null;
        if (magnitudeKey == null) {
            return Optional.empty();
        }
        Map<String, TensorInfo> rest = new HashMap<>(tensors);
        TensorInfo scale = rest.remove(magnitudeKey);
        Optional<AdapterModule> base = base(prefix, rest);
        if (base.isEmpty()) {
            return Optional.empty();
        }
        String axis = scale.rank() == 1 || (scale.rank() >= 2 && scale.dim(1) == 1 && scale.dim(0) > 1) ? "output-axis"
                : "input-axis";
        return Optional.of(new AdapterModule(prefix, tensors, base.get().rank(), null,
                axis + " on " + base.get().variant()));
    }

    private static Optional<AdapterModule> base(String prefix, Map<String, TensorInfo> rest) {
        if (Set.of("lora_A.weight", "lora_B.weight").equals(rest.keySet())) {
            return Optional.of(new AdapterModule(prefix, rest, (int) rest.get("lora_A.weight").dim(0), null, "peft lora"));
        }
        for (AdapterType t : List.<AdapterType>of(new LoConAdapter(), new LohaAdapter(), new LokrAdapter())) {
            Optional<AdapterModule> m = t.recognize(prefix, rest);
            if (m.isPresent()) {
                return Optional.of(new AdapterModule(prefix, rest, m.get().rank(), null,
                        t.descriptor().implementation()));
            }
        }
        return Optional.empty();
    }

    @Override
    public NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight, NDManager manager) {
        return delta(module, tensors, baseWeight, 1.0, PARAMETERS.validate(Map.of()), manager);
    }

    @Override
    public NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight, double strength,
                         ParameterValues parameters, NDManager manager) {
        NDArray w = WeightMath.requireBase(baseWeight, module.prefix(), "dora");
        NDArray magnitude = tensors.containsKey("dora_scale") ? tensors.get("dora_scale")
                : tensors.get("lora_magnitude_vector");
        NDArray v = w.add(WeightMath.fit(lowRank(tensors, w), w, module.prefix()));
        boolean output = switch (parameters.getString("axis")) {
            case "output" -> true;
            case "input" -> false;
            default -> module.variant().startsWith("output");
        };
        var ws = w.getShape();
        long out = ws.get(0);
        long in = ws.get(1);
        long[] normShape = WeightMath.ones(ws.dimension());
        NDArray norm;
        if (output) {
            normShape[0] = out;
            norm = v.reshape(out, ws.size() / out).norm(new int[] {1}, true);
        } else {
            normShape[1] = in;
            norm = v.swapAxes(0, 1).reshape(in, ws.size() / in).norm(new int[] {1}, true);
        }
        norm = norm.reshape(normShape).addi(EPS);
        long expected = output ? out : in;
        if (magnitude.getShape().size() != expected) {
            throw new IllegalArgumentException(module.prefix() + ": dora_scale " + magnitude.getShape()
                    + " does not match the " + (output ? "output" : "input") + " axis of " + ws);
        }
        NDArray ratio = magnitude.reshape(normShape).div(norm);
        float m = (float) strength;
        if (parameters.getString("strength_mode").equals("a1111")) {
            return v.mul(ratio).subi(w).muli(m);
        }
        return v.mul(ratio.sub(1f).muli(m).addi(1f)).subi(w);
    }

    private static NDArray lowRank(Map<String, NDArray> t, NDArray base) {
        if (t.containsKey("lora_A.weight")) {
            return WeightMath.product(t.get("lora_B.weight"), t.get("lora_A.weight"));
        }
        if (t.containsKey("lora_down.weight")) {
            return LoConAdapter.rebuild(t);
        }
        if (t.containsKey("hada_w1_a")) {
            return LohaAdapter.rebuild(t);
        }
        return LokrAdapter.rebuild(t, base);
    }
}
