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

/** {@code (1 - alpha - beta) * A + alpha * B + beta * C}: SuperMerger's "Triple sum" and meh's {@code triple_sum}. */
public final class TripleSumMerge implements MergeAlgorithm {
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("triple_sum/basic", "1.1.0",
            "Triple sum (1 - alpha - beta) * A + alpha * B + beta * C, as SuperMerger computes it");
    private static final ParameterSchema PARAMETERS = ParameterSchema.of(
            ParameterSpec.floating("alpha", 0.33, 0.0, 1.0, "Share of model B").withPerBlock(),
            ParameterSpec.floating("beta", 0.33, 0.0, 1.0, "Share of model C").withPerBlock());

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
                out[i] = (b[i] - a[i]) * alpha + (c[i] - a[i]) * beta + a[i];
            }
        });
    }

    @Override
    public NDArray merge(MergeContext context, List<NDArray> inputs, ParameterValues parameters) {
        float alpha = (float) parameters.getDouble("alpha");
        float beta = (float) parameters.getDouble("beta");
        NDArray a = inputs.get(0);
        // A + alpha (B - A) + beta (C - A): the same value with two temporaries instead of three scaled copies.
        NDArray out = inputs.get(1).sub(a).muli(alpha);
        NDArray c = inputs.get(2).sub(a);
        out.addi(c.muli(beta)).addi(a);
        c.close();
        return out;
    }
}
