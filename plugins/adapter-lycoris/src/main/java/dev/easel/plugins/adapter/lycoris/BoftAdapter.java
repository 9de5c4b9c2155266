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
 * LyCORIS BOFT ({@code modules/boft.py}): 4-d {@code oft_blocks} ({@code boft_m×blocks×bs×bs}), one Cayley rotation
 * per butterfly stage; stage i groups the output rows in pairs at stride {@code 2^i·bs/2}, applies {@code R_i}
 * (not transposed) per block and undoes the permutation; then the optional {@code rescale}. The strength blends
 * every stage ({@code m·R_i + (1 − m)·I}, LyCORIS and ComfyUI's inner form) or, with {@code strength_mode=a1111},
 * scales the final delta as A1111 does; the two differ for m ≠ 1.
 */
public final class BoftAdapter implements AdapterType {
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("lycoris/boft", "1.0.0",
            "LyCORIS BOFT: butterfly products of Cayley block rotations, constraint alpha*out, rescale");
    private static final ParameterSchema PARAMETERS = ParameterSchema.of(
            ParameterSpec.choice("strength_mode", "lycoris", List.of("lycoris", "a1111"),
                    "lycoris: blend each stage m*R+(1-m)*I; a1111: m times the full-strength delta"),
            DiagOftAdapter.CONSTRAINT);

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
        TensorInfo blocks = tensors.get("oft_blocks");
        if (blocks == null || blocks.rank() != 4 || !Set.of("oft_blocks", "alpha", "rescale").containsAll(tensors.keySet())) {
            return Optional.empty();
        }
        return Optional.of(new AdapterModule(prefix, tensors, (int) blocks.dim(1), null,
                blocks.dim(0) + " stages of " + blocks.dim(1) + " blocks of " + blocks.dim(2)));
    }

    @Override
    public NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight, NDManager manager) {
        return delta(module, tensors, baseWeight, 1.0, PARAMETERS.validate(Map.of()), manager);
    }

    @Override
    public NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight, double strength,
                         ParameterValues parameters, NDManager manager) {
        NDArray w = WeightMath.requireBase(baseWeight, module.prefix(), "boft");
        boolean inner = parameters.getString("strength_mode").equals("lycoris");
        NDArray blocks = tensors.get("oft_blocks");
        var bs4 = blocks.getShape();
        int stages = (int) bs4.get(0);
        long blockNum = bs4.get(1);
        long b = bs4.get(2);
        var ws = w.getShape();
        long out = ws.get(0);
        long f = ws.size() / out;
        if (blockNum * b != out) {
            throw new IllegalArgumentException(module.prefix() + ": " + blockNum + " blocks of " + b
                    + " do not cover the " + out + " output rows of " + ws);
        }
        double constraint = DiagOftAdapter.constraint(tensors.get("alpha"), out, parameters);
        NDArray r = WeightMath.cayley(blocks, constraint, false, manager);
        NDArray x = w.reshape(out, f);
        long half = b / 2;
        for (int i = 0; i < stages; i++) {
            NDArray ri = r.get(i);
            if (inner) {
                ri = DiagOftAdapter.interpolate(ri, strength, manager);
            }
            long k = (1L << i) * half;
            x = x.reshape(out / (2 * k), 2, k, f).swapAxes(1, 2).reshape(blockNum, b, f);
            x = ri.matMul(x);
            x = x.reshape(out / (2 * k), k, 2, f).swapAxes(1, 2).reshape(out, f);
        }
        NDArray result = x.reshape(ws);
        NDArray rescale = tensors.get("rescale");
        if (rescale != null) {
            result = result.mul(rescale.reshape(DiagOftAdapter.rescaleShape(w)));
        }
        NDArray d = result.subi(w);
        return inner ? d : d.muli((float) strength);
    }
}
