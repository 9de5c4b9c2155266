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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * LyCORIS GLoRA ({@code modules/glora.py}): {@code ΔW = (α/r)·(W·a1·a2 + b1·b2)} (current layout: a1 {@code in×r},
 * a2 {@code r×in}, b1 {@code out×r}, b2 {@code r×in[×kh×kw]}, r = a2.shape[0]), or the old LyCORIS layout
 * {@code b2·b1 + W·a2·a1} with r = a1.shape[0]. {@code layout=auto} tells them apart by shapes as ComfyUI does.
 */
public final class GloraAdapter implements AdapterType {
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("lycoris/glora", "1.0.0",
            "LyCORIS GLoRA: W + m*(alpha/r)*(W@a1@a2 + b1@b2), old and new layouts");
    private static final ParameterSchema PARAMETERS = ParameterSchema.of(
            ParameterSpec.choice("layout", "auto", List.of("auto", "new", "old"),
                    "auto: by shapes as ComfyUI; new: LyCORIS >= 2 (W@a1@a2 + b1@b2); old: b2@b1 + W@a2@a1"));

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
        Set<String> required = Set.of("a1.weight", "a2.weight", "b1.weight", "b2.weight");
        if (!tensors.keySet().containsAll(required)
                || !Set.of("a1.weight", "a2.weight", "b1.weight", "b2.weight", "alpha").containsAll(tensors.keySet())) {
            return Optional.empty();
        }
        return Optional.of(new AdapterModule(prefix, tensors, (int) tensors.get("a2.weight").dim(0), null,
                "glora"));
    }

    @Override
    public NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight, NDManager manager) {
        return delta(module, tensors, baseWeight, 1.0, PARAMETERS.validate(Map.of()), manager);
    }

    @Override
    public NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight, double strength,
                         ParameterValues parameters, NDManager manager) {
        NDArray w = WeightMath.requireBase(baseWeight, module.prefix(), "glora");
        NDArray a1 = tensors.get("a1.weight");
        NDArray a2 = tensors.get("a2.weight");
        NDArray b1 = tensors.get("b1.weight");
        NDArray b2 = tensors.get("b2.weight");
        boolean old = switch (parameters.getString("layout")) {
            case "old" -> true;
            case "new" -> false;
            default -> isOld(a1, a2, b1, b2, w);
        };
        var ws = w.getShape();
        long out = ws.get(0);
        long in = ws.get(1);
        // W with its input-channel axis last, so that W·a contracts it: (out·kh·kw) × in.
        NDArray wIn = w.reshape(out, in, ws.size() / (out * in)).swapAxes(1, 2).reshape(ws.size() / in, in);
        NDArray first;
        NDArray second;
        long rank;
        if (old) {
            rank = a1.getShape().get(0);
            first = WeightMath.product(b2, b1);
            second = wIn.matMul(flat2(a2)).matMul(flat2(a1));
        } else {
            rank = a2.getShape().get(0);
            first = WeightMath.product(b1, b2);
            second = wIn.matMul(flat2(a1)).matMul(flat2(a2));
        }
        second = second.reshape(out, ws.size() / (out * in), in).swapAxes(1, 2).reshape(ws);
        float s = WeightMath.scale(tensors.get("alpha"), rank);
        return WeightMath.fit(first, w, module.prefix()).add(second).muli((float) (s * strength));
    }

    private static NDArray flat2(NDArray a) {
        long rows = a.getShape().get(0);
        return a.reshape(rows, a.getShape().size() / rows);
    }

    private static boolean isOld(NDArray a1, NDArray a2, NDArray b1, NDArray b2, NDArray w) {
        var s1 = a1.getShape();
        var s2 = a2.getShape();
        var sb1 = b1.getShape();
        var sb2 = b2.getShape();
        boolean old = false;
        if (sb2.get(1) == sb1.get(0) && sb1.get(0) == s1.get(0) && s1.get(0) == s2.get(1)) {
            old = true;
        }
        if (sb2.get(0) == sb1.get(1) && sb1.get(1) == s1.get(1) && s1.get(1) == s2.get(0)) {
            if (!(old && s2.get(0) == w.getShape().get(0) && w.getShape().get(0) == w.getShape().get(1))) {
                old = false;
            }
        }
        return old;
    }
}
