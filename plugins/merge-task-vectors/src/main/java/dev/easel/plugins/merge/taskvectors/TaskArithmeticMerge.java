package dev.easel.plugins.merge.taskvectors;

import ai.djl.ndarray.NDArray;
import dev.easel.api.ParameterSchema;
import dev.easel.api.ParameterSpec;
import dev.easel.api.ParameterValues;
import dev.easel.api.PluginDescriptor;
import dev.easel.api.merge.ElementwiseKernel;
import dev.easel.api.merge.MergeContext;
import java.util.List;
import java.util.Optional;

/**
 * Task arithmetic: {@code base + alpha * sum_i w_i (model_i - base)} (Ilharco et al. 2023; mergekit's
 * {@code task_arithmetic} with {@code lambda} named {@code alpha} as in sd-mecha). With one model it is
 * {@code add_difference(base, model, base)}; with weights 1 and alpha 1/N it is the plain average.
 */
public final class TaskArithmeticMerge extends TaskVectorMerge {
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("task_arithmetic/task-vectors", "1.0.0",
            "Task arithmetic base + alpha * sum of weighted deltas (model - base), as mergekit computes it");
    private static final ParameterSchema PARAMETERS = ParameterSchema.of(
            ParameterSpec.floating("alpha", 1.0, -2.0, 2.0, "Scale of the summed deltas (mergekit's lambda)")
                    .withPerBlock(),
            TaskVectors.WEIGHTS);

    @Override
    public PluginDescriptor descriptor() {
        return DESCRIPTOR;
    }

    @Override
    public ParameterSchema parameters() {
        return PARAMETERS;
    }

    @Override
    public boolean elementwise() {
        return true;
    }

    @Override
    public Optional<ElementwiseKernel> kernel(ParameterValues parameters) {
        double alpha = parameters.getDouble("alpha");
        List<Double> w = parameters.getDoubles("weights");
        return Optional.of((in, out, length) -> {
            float[] base = in[0];
            for (int i = 0; i < length; i++) {
                double sum = 0;
                for (int j = 1; j < in.length; j++) {
                    sum += (w.isEmpty() ? 1.0 : w.get(j - 1)) * (in[j][i] - base[i]);
                }
                out[i] = (float) (base[i] + alpha * sum);
            }
        });
    }

    @Override
    public NDArray merge(MergeContext context, List<NDArray> inputs, ParameterValues parameters) {
        return Kernels.run(context, inputs, kernel(parameters).orElseThrow());
    }
}
