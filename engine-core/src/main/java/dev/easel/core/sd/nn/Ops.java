package dev.easel.core.sd.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;
import dev.easel.core.runtime.TorchOwned;

/** Tensor operations the networks share. */
public final class Ops {
    private static volatile boolean blockScoping = true;

    private Ops() {
    }

    /**
     * Turns block-wise freeing off (diagnostics: the benchmark counts the arrays one forward creates by leaving them
     * all in the caller's manager).
     */
    public static void setBlockScoping(boolean on) {
        blockScoping = on;
    }

    /**
     * Moves an array derived from a parameter (a reshape, a slice) to the manager of the activations it is used
     * with, so it is freed with them instead of piling up in the model's manager.
     */
    public static NDArray local(NDArray derived, NDArray activations) {
        if (derived.getManager() != activations.getManager()) {
            derived.attach(activations.getManager());
        }
        return derived;
    }

    /**
     * Runs {@code f} and frees every array it created except its result: a network frees a block's intermediates as
     * soon as the block is done instead of when the caller's manager closes (libtorch's autograd keeps what backward
     * needs by its own references, so this is safe under a gradient collector too).
     */
    public static NDArray scoped(java.util.function.Supplier<NDArray> f) {
        if (!blockScoping) {
            return f.get();
        }
        try (ai.djl.ndarray.NDScope scope = new ai.djl.ndarray.NDScope()) {
            scope.suppressNotUsedWarning();
            NDArray out = f.get();
            ai.djl.ndarray.NDScope.unregister(out);
            return out;
        }
    }

    /** Closes {@code consumed} unless it is {@code keep} (a function's own input). */
    public static void release(NDArray consumed, NDArray keep) {
        if (consumed != keep && consumed != null) {
            consumed.close();
        }
    }

    /** {@code x · sigmoid(x)}. */
    public static NDArray silu(NDArray x) {
        return x.mul(Activation.sigmoid(x));
    }

    /** CLIP's {@code x · sigmoid(1.702 x)}. */
    public static NDArray quickGelu(NDArray x) {
        return x.mul(Activation.sigmoid(TorchOwned.mul(x, 1.702f)));
    }

    /** Exact (erf) GELU, as torch's default. */
    public static NDArray gelu(NDArray x) {
        return Activation.gelu(x);
    }

    /**
     * Multi-head scaled dot-product attention. {@code q [B, N, H·D]}, {@code k, v [B, M, H·D]}; {@code mask}
     * (additive, {@code [N, M]}) may be {@code null}.
     */
    public static NDArray attention(NDArray q, NDArray k, NDArray v, int heads, float scale, NDArray mask,
                                    boolean scaleQueryFirst) {
        long b = q.getShape().get(0);
        long n = q.getShape().get(1);
        long m = k.getShape().get(1);
        long inner = q.getShape().get(2);
        long d = inner / heads;
        NDArray qh = q.reshape(b, n, heads, d).transpose(0, 2, 1, 3);
        NDArray kh = k.reshape(b, m, heads, d).transpose(0, 2, 3, 1);
        NDArray vh = v.reshape(b, m, heads, d).transpose(0, 2, 1, 3);
        NDArray scores = scaleQueryFirst ? TorchOwned.mul(qh, scale).matMul(kh) : TorchOwned.mul(qh.matMul(kh), scale);
        if (mask != null) {
            scores = scores.add(mask);
        }
        NDArray out = scores.softmax(-1).matMul(vh);
        return out.transpose(0, 2, 1, 3).reshape(b, n, inner);
    }

    /** Nearest-neighbour ×2 upsampling of {@code [B, C, H, W]}. */
    public static NDArray upsampleNearest2x(NDArray x) {
        long[] s = x.getShape().getShape();
        return x.reshape(s[0], s[1], s[2], 1, s[3], 1)
                .broadcast(s[0], s[1], s[2], 2, s[3], 2)
                .reshape(s[0], s[1], s[2] * 2, s[3] * 2);
    }
}
