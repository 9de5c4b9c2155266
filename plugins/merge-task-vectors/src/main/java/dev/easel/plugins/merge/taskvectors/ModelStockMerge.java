package dev.easel.plugins.merge.taskvectors;

import ai.djl.ndarray.NDArray;
import dev.easel.api.ParameterSchema;
import dev.easel.api.ParameterSpec;
import dev.easel.api.ParameterValues;
import dev.easel.api.PluginDescriptor;
import dev.easel.api.merge.MergeAlgorithm;
import dev.easel.api.merge.MergeContext;
import dev.easel.api.merge.TensorKernel;
import java.util.List;
import java.util.Optional;

/**
 * Model Stock (Jang et al. 2024), as mergekit computes it: with deltas {@code d_i = model_i - base} flattened,
 * {@code cos} is the mean over all pairs {@code i < j} of {@code d_i . d_j / max(|d_i| |d_j|, cos_eps)},
 * {@code t = N cos / (1 + (N - 1) cos)}, and the result is {@code t * mean(model_i) + (1 - t) * base}: the more the
 * fine-tunes agree, the closer the result is to their average. A non-finite {@code t} (all deltas zero, or
 * {@code cos = -1/(N-1)}) gives the base. sd-mecha differs for three or more models or for matrices (row-wise
 * cosines, consecutive pairs only).
 */
public final class ModelStockMerge implements MergeAlgorithm {
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("model_stock/task-vectors", "1.0.0",
            "Model stock: t * mean(models) + (1 - t) * base, t from the mean cosine of the deltas (mergekit)");
    private static final ParameterSchema PARAMETERS = ParameterSchema.of(
            ParameterSpec.floating("cos_eps", 1e-6, 0.0, 1.0, "Lower bound of the norm product in the cosines"));

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
        return List.of("base", "a", "b");
    }

    @Override
    public boolean variadic() {
        return true;
    }

    @Override
    public boolean hasBaseModel() {
        return true;
    }

    @Override
    public Optional<TensorKernel> tensorKernel(ParameterValues parameters) {
        double eps = parameters.getDouble("cos_eps");
        return Optional.of((key, seed, in) -> {
            float[][] d = TaskVectors.deltas(in);
            double t = interpolation(d, eps);
            // t * mean(model_i) + (1 - t) * base = base + t * mean(d_i)
            return TaskVectors.combine(d, ones(d.length), TaskVectors.Consensus.NONE, true, false, in[0],
                    t / d.length);
        });
    }

    @Override
    public NDArray merge(MergeContext context, List<NDArray> inputs, ParameterValues parameters) {
        return TaskVectors.run(context, inputs, tensorKernel(parameters).orElseThrow());
    }

    /** The interpolation ratio {@code t} from the deltas. */
    static double interpolation(float[][] d, double eps) {
        int n = d.length;
        double[] norms = new double[n];
        for (int j = 0; j < n; j++) {
            norms[j] = Math.sqrt(dot(d[j], d[j]));
        }
        double cos = 0;
        int pairs = 0;
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                cos += dot(d[i], d[j]) / Math.max(norms[i] * norms[j], eps);
                pairs++;
            }
        }
        cos /= pairs;
        double t = n * cos / (1 + (n - 1) * cos);
        return Double.isFinite(t) ? t : 0.0;
    }

    private static double dot(float[] x, float[] y) {
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            s += (double) x[i] * y[i];
        }
        return s;
    }

    private static double[] ones(int n) {
        double[] w = new double[n];
        java.util.Arrays.fill(w, 1.0);
        return w;
    }
}
