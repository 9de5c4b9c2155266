package dev.easel.core.train.optim;

import ai.djl.ndarray.NDArray;
import java.util.List;

/** Gradient access and global-norm clipping over trainable tensors. */
public final class Gradients {
    private Gradients() {
    }

    /** The gradient of a trainable tensor, or {@code null} if it has none (not reached by the loss). */
    public static NDArray of(NDArray parameter) {
        if (!parameter.hasGradient()) {
            return null;
        }
        return parameter.getGradient();
    }

    /** The global L2 norm of every gradient. */
    public static double globalNorm(List<NDArray> parameters) {
        double sum = 0;
        for (NDArray p : parameters) {
            NDArray g = of(p);
            if (g != null) {
                sum += g.square().sum().getFloat();
            }
        }
        return Math.sqrt(sum);
    }

    /**
     * Scales every gradient so the global norm is at most {@code maxNorm}, as {@code clip_grad_norm_} does.
     *
     * @return the norm before clipping
     */
    public static double clip(List<NDArray> parameters, double maxNorm) {
        double norm = globalNorm(parameters);
        if (maxNorm > 0) {
            double coef = maxNorm / (norm + 1e-6);
            if (coef < 1) {
                for (NDArray p : parameters) {
                    NDArray g = of(p);
                    if (g != null) {
                        g.muli((float) coef);
                    }
                }
            }
        }
        return norm;
    }

    /** Sets every gradient to zero, for the next accumulation. */
    public static void zero(List<NDArray> parameters) {
        for (NDArray p : parameters) {
            NDArray g = of(p);
            if (g != null) {
                // an assignment, not g * 0: a NaN or infinite gradient must not survive into the next step
                g.set(new ai.djl.ndarray.index.NDIndex("..."), 0);
            }
        }
    }
}
