package dev.easel.core.sd.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import dev.easel.api.training.GuidanceHook;
import dev.easel.core.sd.nn.Ops;
import dev.easel.core.sd.unet.UNet;
import java.util.List;

/**
 * Classifier-free guidance as ldm's DDIM sampler and A1111 compute it: one UNet call on {@code [x, x]} with contexts
 * {@code [uncond, cond]}, then {@code e_u + scale · (e_c − e_u)}. Guidance hooks may replace the unconditional
 * context per step and the combination. With scale 1 only the conditional branch runs.
 */
public final class GuidedDenoiser implements Denoiser {
    private final UNet unet;
    private final NDArray cond;
    private final NDArray uncond;
    private final float scale;
    private final List<GuidanceHook> hooks;

    public GuidedDenoiser(UNet unet, NDArray cond, NDArray uncond, float scale, List<GuidanceHook> hooks) {
        this.unet = unet;
        this.cond = cond;
        this.uncond = uncond;
        this.scale = scale;
        this.hooks = List.copyOf(hooks);
    }

    @Override
    public NDArray predict(NDArray x, float t, int step) {
        long b = x.getShape().get(0);
        if (scale == 1f && hooks.isEmpty()) {
            return unet.forward(x, x.getManager().full(new ai.djl.ndarray.types.Shape(b), t), batch(cond, b));
        }
        NDArray u = uncond;
        for (GuidanceHook h : hooks) {
            u = h.unconditional(step, u);
        }
        if (u.getShape().get(1) != cond.getShape().get(1)) {
            // Prompts of different chunk counts: two calls, as A1111 does without pad_cond_uncond.
            NDArray ts = x.getManager().full(new ai.djl.ndarray.types.Shape(b), t);
            NDArray eu = unet.forward(x, ts, batch(u, b));
            NDArray ec = unet.forward(x, ts, batch(cond, b));
            return hooks.isEmpty() ? eu.add(ec.sub(eu).mul(scale)) : hooks.get(hooks.size() - 1).combine(eu, ec, scale);
        }
        NDArray xin = x.concat(x, 0);
        NDArray tin = x.getManager().full(new ai.djl.ndarray.types.Shape(2 * b), t);
        NDArray ctx = Ops.local(NDArrays.concat(new NDList(batch(u, b), batch(cond, b))), x);
        NDArray out = unet.forward(xin, tin, ctx);
        NDList parts = out.split(2, 0);
        NDArray eu = parts.get(0);
        NDArray ec = parts.get(1);
        if (hooks.isEmpty()) {
            return eu.add(ec.sub(eu).mul(scale));
        }
        return hooks.get(hooks.size() - 1).combine(eu, ec, scale);
    }

    private static NDArray batch(NDArray context, long b) {
        long have = context.getShape().get(0);
        if (have == b) {
            return context;
        }
        if (have != 1) {
            throw new IllegalArgumentException("context batch " + have + " does not match latent batch " + b);
        }
        return Ops.local(context.repeat(0, b), context);
    }
}
