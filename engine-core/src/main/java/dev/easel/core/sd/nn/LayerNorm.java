package dev.easel.core.sd.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.model.ModuleKind;

/** LayerNorm over the last dimension. */
public final class LayerNorm extends Layer {
    private final float eps;

    public LayerNorm(Spec spec, long width, float eps, WeightSource source) {
        super(spec, ModuleKind.NORM, new long[] {width}, true, source, ParamKind.NORM_SCALE, ParamKind.NORM_SHIFT);
        this.eps = eps;
    }

    @Override
    protected NDArray compute(NDArray x, NDArray w, NDArray b) {
        return x.getNDArrayInternal().layerNorm(x, new Shape(weightShape()[0]), w, b, eps).singletonOrThrow();
    }
}
