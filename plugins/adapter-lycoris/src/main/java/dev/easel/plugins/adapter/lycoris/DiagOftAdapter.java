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
 * LyCORIS Diag-OFT ({@code modules/diag_oft.py}): block-diagonal Cayley rotations of 3-d {@code oft_blocks}
 * ({@code blocks×bs×bs}), {@code W'_k = R_mᵀ·W_k} per block of output rows with {@code R_m = m·(R − I) + I},
 * then the optional {@code rescale}. {@code alpha} is the constraint: when positive, Q is scaled down to Frobenius
 * norm {@code alpha·out}. The legacy {@code oft_diag} key (late-2023 LyCORIS) is used directly as R, as A1111 does.
 * kohya's {@code oft_unet_} files are {@code kohya/oft}. {@code constraint=comfyui} bounds ‖Q‖ by alpha itself, as
 * ComfyUI's loader does, to reproduce its results.
 */
public final class DiagOftAdapter implements AdapterType {
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("lycoris/oft", "1.0.0",
            "LyCORIS Diag-OFT: block rotations R^T W (Cayley), constraint alpha*out when alpha > 0, rescale");

    /** The constraint choice shared by Diag-OFT and BOFT. */
    static final ParameterSpec CONSTRAINT = ParameterSpec.choice("constraint", "lycoris", List.of("lycoris", "comfyui"),
            "Bound on the Frobenius norm of Q when alpha > 0: lycoris/A1111 alpha*out, comfyui alpha");
    private static final ParameterSchema PARAMETERS = ParameterSchema.of(CONSTRAINT);

    @Override
    public PluginDescriptor descriptor() {
        return DESCRIPTOR;
    }

    @Override
    public ParameterSchema parameters() {
        return PARAMETERS;
    }

    /** The bound on ‖Q‖ for a stored alpha: {@code alpha·out} (LyCORIS, A1111) or {@code alpha} (ComfyUI). */
    static double constraint(NDArray alpha, long out, ParameterValues parameters) {
        if (alpha == null) {
            return 0;
        }
        double a = WeightMath.scalar(alpha);
        return parameters.getString("constraint").equals("comfyui") ? a : a * out;
    }

    @Override
    public Optional<AdapterModule> recognize(String prefix, Map<String, TensorInfo> tensors) {
        if (prefix.startsWith("oft_")) {
            return Optional.empty();
        }
        TensorInfo blocks = tensors.get("oft_blocks");
        if (blocks != null && blocks.rank() == 3 && Set.of("oft_blocks", "alpha", "rescale").containsAll(tensors.keySet())) {
            return Optional.of(new AdapterModule(prefix, tensors, (int) blocks.dim(0), null,
                    blocks.dim(0) + " blocks of " + blocks.dim(1)));
        }
        TensorInfo diag = tensors.get("oft_diag");
        if (diag != null && diag.rank() == 3 && Set.of("oft_diag", "alpha").containsAll(tensors.keySet())) {
            return Optional.of(new AdapterModule(prefix, tensors, (int) diag.dim(0), null, "legacy oft_diag"));
        }
        return Optional.empty();
    }

    @Override
    public NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight, NDManager manager) {
        return delta(module, tensors, baseWeight, 1.0, parameters().validate(Map.of()), manager);
    }

    @Override
    public NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight, double strength,
                         ParameterValues parameters, NDManager manager) {
        NDArray w = WeightMath.requireBase(baseWeight, module.prefix(), "oft");
        if (tensors.containsKey("oft_diag")) {
            NDArray rotated = rotate(tensors.get("oft_diag"), w, module.prefix());
            return rotated.subi(w).muli((float) strength);
        }
        NDArray blocks = tensors.get("oft_blocks");
        double constraint = constraint(tensors.get("alpha"), w.getShape().get(0), parameters);
        NDArray r = WeightMath.cayley(blocks, constraint, false, manager);
        NDArray rm = interpolate(r, strength, manager);
        NDArray rotated = rotate(rm, w, module.prefix());
        NDArray rescale = tensors.get("rescale");
        if (rescale != null) {
            rotated = rotated.mul(rescale.reshape(rescaleShape(w)));
        }
        return rotated.subi(w);
    }

    /** {@code m·(R − I) + I}: kohya's and LyCORIS's multiplier on a rotation. */
    static NDArray interpolate(NDArray r, double m, NDManager manager) {
        if (m == 1.0) {
            return r;
        }
        var s = r.getShape();
        NDArray eye = manager.eye((int) s.get(s.dimension() - 1)).broadcast(s);
        return r.sub(eye).muli((float) m).addi(eye);
    }

    /** {@code W'_k = R_kᵀ W_k} for every block k of output rows. */
    static NDArray rotate(NDArray r, NDArray w, String module) {
        var ws = w.getShape();
        long blocks = r.getShape().get(0);
        long bs = r.getShape().get(1);
        if (blocks * bs != ws.get(0)) {
            throw new IllegalArgumentException(module + ": " + blocks + " blocks of " + bs + " do not cover the "
                    + ws.get(0) + " output rows of " + ws);
        }
        NDArray wk = w.reshape(blocks, bs, ws.size() / ws.get(0));
        return r.swapAxes(1, 2).matMul(wk).reshape(ws);
    }

    static long[] rescaleShape(NDArray w) {
        long[] s = WeightMath.ones(w.getShape().dimension());
        s[0] = w.getShape().get(0);
        return s;
    }
}
