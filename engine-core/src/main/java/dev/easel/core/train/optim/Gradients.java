package dev.easel.core.train.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
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
        // one read-back for all tensors, not one per tensor (a LoRA has hundreds)
        try (NDScope scope = new NDScope()) {
            List<NDArray> sums = new ArrayList<>();
            for (NDArray p : parameters) {
                NDArray g = of(p);
                if (g != null) {
                    sums.add(g.square().sum().toType(DataType.FLOAT64, false));
                }
            }
            if (sums.isEmpty()) {
                return 0;
            }
            NDArray total = sums.size() == 1 ? sums.get(0) : NDArrays.stack(new NDList(sums)).sum();
            return Math.sqrt(total.getDouble());
        }
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
                try (NDScope scope = new NDScope()) {
                    Scalars c = new Scalars();
                    for (NDArray p : parameters) {
                        NDArray g = of(p);
                        if (g != null) {
                            g.muli(c.get(g, coef));
                        }
                    }
                }
            }
        }
        return norm;
    }

    /** Sets every gradient to zero, for the next accumulation. */
    public static void zero(List<NDArray> parameters) {
        try (NDScope scope = new NDScope()) {
            Scalars c = new Scalars();
            NDIndex all = new NDIndex("...");
            for (NDArray p : parameters) {
                NDArray g = of(p);
                if (g != null) {
                    // an assignment, not g * 0: a NaN or infinite gradient must not survive into the next step
                    g.set(all, c.get(g, 0));
                }
            }
        }
    }
}
