package dev.easel.core.sd.nn;

import ai.djl.ndarray.NDArray;
import dev.easel.api.model.ModuleKind;

/**
 * GroupNorm over {@code [B, C, H, W]} (or {@code [B, C, N]}), computed in float32 as ldm's {@code GroupNorm32}:
 * biased variance, {@code (x - mean) / sqrt(var + eps)}, per-channel scale and shift.
 */
public final class GroupNorm extends Layer {
    private final int groups;
    private final float eps;

    public GroupNorm(Spec spec, int groups, long channels, float eps, WeightSource source) {
        super(spec, ModuleKind.NORM, new long[] {channels}, true, source, ParamKind.NORM_SCALE, ParamKind.NORM_SHIFT);
        this.groups = groups;
        this.eps = eps;
    }

    @Override
    protected NDArray compute(NDArray x, NDArray w, NDArray b) {
        long[] s = x.getShape().getShape();
        long c = s[1];
        NDArray g = x.reshape(s[0], groups, -1);
        NDArray mean = g.mean(new int[] {2}, true);
        NDArray centred = g.sub(mean);
        NDArray var = centred.square().mean(new int[] {2}, true);
        NDArray norm = centred.div(var.add(eps).sqrt()).reshape(s);
        long[] bshape = new long[s.length];
        java.util.Arrays.fill(bshape, 1);
        bshape[1] = c;
        NDArray scale = Ops.local(w.reshape(bshape), x);
        NDArray shift = Ops.local(b.reshape(bshape), x);
        return norm.mul(scale).add(shift);
    }

    public float eps() {
        return eps;
    }
}
