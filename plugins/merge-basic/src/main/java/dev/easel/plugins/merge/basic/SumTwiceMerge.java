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

/** {@code (1 - beta) * ((1 - alpha) * A + alpha * B) + beta * C}: SuperMerger's "sum Twice", meh's {@code sum_twice}. */
public final class SumTwiceMerge implements MergeAlgorithm {
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("sum_twice/basic", "1.1.0",
            "Sum twice: lerp(lerp(A, B, alpha), C, beta), as SuperMerger computes it");
    private static final ParameterSchema PARAMETERS = ParameterSchema.of(
            ParameterSpec.floating("alpha", 0.5, 0.0, 1.0, "Share of B in the first sum").withPerBlock(),
            ParameterSpec.floating("beta", 0.5, 0.0, 1.0, "Share of C in the second sum").withPerBlock());

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
        return List.of("a", "b", "c");
    }

    @Override
    public boolean elementwise() {
        return true;
    }

    @Override
    public Optional<ElementwiseKernel> kernel(ParameterValues parameters) {
        float alpha = (float) parameters.getDouble("alpha");
        float beta = (float) parameters.getDouble("beta");
        return Optional.of((in, out, length) -> {
            float[] a = in[0];
            float[] b = in[1];
            float[] c = in[2];
            for (int i = 0; i < length; i++) {
                float ab = (b[i] - a[i]) * alpha + a[i];
                out[i] = (c[i] - ab) * beta + ab;
            }
        });
    }

    @Override
    public NDArray merge(MergeContext context, List<NDArray> inputs, ParameterValues parameters) {
        float alpha = (float) parameters.getDouble("alpha");
        float beta = (float) parameters.getDouble("beta");
        NDArray a = inputs.get(0);
        NDArray ab = inputs.get(1).sub(a).muli(alpha).addi(a);
        NDArray out = inputs.get(2).sub(ab).muli(beta).addi(ab);
        ab.close();
        return out;
    }
}
