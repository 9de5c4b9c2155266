package dev.easel.core.sd.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.model.ModuleKind;

/** 2-d convolution, weight {@code [out, in, k, k]}. */
public final class Conv2d extends Layer {
    private final int stride;
    private final int padding;

    public Conv2d(Spec spec, long in, long out, int kernel, int stride, int padding, WeightSource source) {
        super(spec, ModuleKind.CONV2D, new long[] {out, in, kernel, kernel}, true, source, ParamKind.WEIGHT,
                ParamKind.BIAS);
        this.stride = stride;
        this.padding = padding;
    }

    @Override
    protected NDArray compute(NDArray x, NDArray w, NDArray b) {
        return x.getNDArrayInternal().convolution(x, w, b, new Shape(stride, stride), new Shape(padding, padding),
                new Shape(1, 1), 1).singletonOrThrow();
    }

    @Override
    public int stride() {
        return stride;
    }

    @Override
    public int padding() {
        return padding;
    }
}
