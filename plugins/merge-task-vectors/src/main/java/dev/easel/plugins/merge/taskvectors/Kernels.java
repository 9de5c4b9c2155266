package dev.easel.plugins.merge.taskvectors;

import ai.djl.ndarray.NDArray;
import dev.easel.api.merge.ElementwiseKernel;
import dev.easel.api.merge.MergeContext;
import java.util.List;

/** Runs an element-wise kernel over whole arrays, so that {@code merge} and the engine's fast path share one formula. */
final class Kernels {
    private Kernels() {
    }

    static NDArray run(MergeContext context, List<NDArray> inputs, ElementwiseKernel kernel) {
        float[][] in = new float[inputs.size()][];
        for (int j = 0; j < in.length; j++) {
            in[j] = inputs.get(j).toFloatArray();
        }
        float[] out = new float[in[0].length];
        kernel.apply(in, out, out.length);
        return context.manager().create(out, inputs.get(0).getShape());
    }
}
