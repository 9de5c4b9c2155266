package dev.easel.plugins.merge.basic;

import ai.djl.ndarray.NDArray;
import dev.easel.api.ParameterSchema;
import dev.easel.api.ParameterSpec;
import dev.easel.api.ParameterValues;
import dev.easel.api.PluginDescriptor;
import dev.easel.api.merge.ElementwiseKernel;
import dev.easel.api.merge.MergeAlgorithm;
import dev.easel.api.merge.MergeContext;
import java.util.List;
import java.util.Optional;

/**
 * {@code (1 - alpha) * A + alpha * B}: A1111's "weighted sum" and sd-mecha's {@code weighted_sum}. As in
 * sd-mecha, alpha 0 returns A and alpha 1 returns B exactly (no rounding through the interpolation).
 */
public final class WeightedSumMerge implements MergeAlgorithm {
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("weighted_sum/basic", "1.1.0",
            "Weighted sum (1 - alpha) * A + alpha * B, as AUTOMATIC1111 and sd-mecha compute it");
    private static final ParameterSchema PARAMETERS = ParameterSchema.of(
            ParameterSpec.floating("alpha", 0.5, 0.0, 1.0, "Share of model B: 0 keeps A, 1 gives B").withPerBlock());

    @Override
    public PluginDescriptor descriptor() {
        return DESCRIPTOR;
    }

    @Override
    public ParameterSchema parameters() {
        return PARAMETERS;
    }

    @Override
    public List<String> inputs() {
        return List.of("a", "b");
    }

    @Override
    public boolean elementwise() {
        return true;
    }

    @Override
    public Optional<ElementwiseKernel> kernel(ParameterValues parameters) {
        double alpha = parameters.getDouble("alpha");
        if (alpha == 0.0 || alpha == 1.0) {
            int pick = alpha == 0.0 ? 0 : 1;
            return Optional.of((in, out, length) -> System.arraycopy(in[pick], 0, out, 0, length));
        }
        float t = (float) alpha;
        // the same float32 operations, in the same order, as merge(): bit-identical results
        return Optional.of((in, out, length) -> {
            float[] a = in[0];
            float[] b = in[1];
            for (int i = 0; i < length; i++) {
                out[i] = (b[i] - a[i]) * t + a[i];
            }
        });
    }

    @Override
    public NDArray merge(MergeContext context, List<NDArray> inputs, ParameterValues parameters) {
        double alpha = parameters.getDouble("alpha");
        NDArray a = inputs.get(0);
        NDArray b = inputs.get(1);
        if (alpha == 0.0) {
            return a.duplicate();
        }
        if (alpha == 1.0) {
            return b.duplicate();
        }
        // One temporary: (B - A) is scaled and shifted in place; the inputs stay untouched.
        return b.sub(a).muli((float) alpha).addi(a);
    }
}
