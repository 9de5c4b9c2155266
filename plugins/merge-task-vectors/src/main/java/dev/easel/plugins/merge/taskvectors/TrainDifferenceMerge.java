package dev.easel.plugins.merge.taskvectors;

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
 * SuperMerger's "trainDifference" calcmode (sd-mecha's {@code add_difference} with a
 * {@code train_difference_mask}): {@code A + 1.8 * alpha * (B - C) * |B - A| / (|B - A| + |B - C|)}, the ratio being
 * 0 where its denominator is 0. The difference B - C is added in proportion to how far B moved from A, so a
 * fine-tune's training (B - C) is transferred onto A without overshooting where A already agrees with B.
 */
public final class TrainDifferenceMerge implements MergeAlgorithm {
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("train_difference/task-vectors", "1.0.0",
            "Train difference A + 1.8 alpha (B - C) |B - A| / (|B - A| + |B - C|), as SuperMerger and sd-mecha "
                    + "compute it");
    private static final ParameterSchema PARAMETERS = ParameterSchema.of(
            ParameterSpec.floating("alpha", 1.0, -2.0, 2.0, "Multiplier of the transferred difference")
                    .withPerBlock());

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
        float scale = (float) (1.8 * parameters.getDouble("alpha"));
        return Optional.of((in, out, length) -> {
            float[] a = in[0];
            float[] b = in[1];
            float[] c = in[2];
            for (int i = 0; i < length; i++) {
                float bc = b[i] - c[i];
                float ba = Math.abs(b[i] - a[i]);
                float denominator = ba + Math.abs(bc);
                float ratio = denominator == 0f ? 0f : ba / denominator;
                out[i] = a[i] + scale * bc * ratio;
            }
        });
    }

    @Override
    public NDArray merge(MergeContext context, List<NDArray> inputs, ParameterValues parameters) {
        return Kernels.run(context, inputs, kernel(parameters).orElseThrow());
    }
}
