package dev.easel.core.sd.nn;

import ai.djl.ndarray.NDArray;
import dev.easel.api.model.ModuleKind;

/** {@code y = x Wᵀ + b}, weight {@code [out, in]}. */
public final class Linear extends Layer {
    private final boolean projectsContext;

    public Linear(Spec spec, long in, long out, boolean bias, WeightSource source) {
        this(spec, in, out, bias, source, false);
    }

    public Linear(Spec spec, long in, long out, boolean bias, WeightSource source, boolean projectsContext) {
        super(spec, ModuleKind.LINEAR, new long[] {out, in}, bias, source, ParamKind.WEIGHT, ParamKind.BIAS);
        this.projectsContext = projectsContext;
    }

    /** A linear layer over given parameters (a slice of a fused projection). */
    public Linear(Spec spec, long in, long out, NDArray weight, NDArray bias) {
        super(spec, ModuleKind.LINEAR, new long[] {out, in}, weight, bias);
        this.projectsContext = false;
    }

    @Override
    protected NDArray compute(NDArray x, NDArray w, NDArray b) {
        return x.getNDArrayInternal().linear(x, w, b).singletonOrThrow();
    }

    @Override
    public boolean projectsContext() {
        return projectsContext;
    }
}
