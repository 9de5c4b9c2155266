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
 * The geometric median of the models' tensors, each tensor taken as one point: the point minimising the sum of
 * Euclidean distances, a robust average that one outlying model cannot drag far. Computed as sd-mecha's
 * {@code geometric_median} does, with Weiszfeld's iterations: start from the mean, reweight each model by
 * {@code 1 / max(distance, eps)}, stop after {@code maxiter} steps or when the objective changes by at most
 * {@code ftol} times itself.
 */
public final class GeometricMedianMerge implements MergeAlgorithm {
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("geometric_median/task-vectors", "1.0.0",
            "Geometric median of the models per tensor (Weiszfeld iterations, as sd-mecha computes it)");
    private static final ParameterSchema PARAMETERS = ParameterSchema.of(
            ParameterSpec.floating("eps", 1e-6, 0.0, 1.0, "Smallest distance used in the weights 1 / distance"),
            ParameterSpec.integer("maxiter", 100, 1, 10_000, "Most Weiszfeld iterations per tensor"),
            ParameterSpec.floating("ftol", 1e-20, 0.0, 1.0, "Stop when the objective changes by at most ftol times it"));

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
    public boolean variadic() {
        return true;
    }

    @Override
    public Optional<TensorKernel> tensorKernel(ParameterValues parameters) {
        double eps = parameters.getDouble("eps");
        int maxiter = parameters.getInt("maxiter");
        double ftol = parameters.getDouble("ftol");
        return Optional.of((key, seed, in) -> median(in, eps, maxiter, ftol));
    }

    @Override
    public NDArray merge(MergeContext context, List<NDArray> inputs, ParameterValues parameters) {
        return TaskVectors.run(context, inputs, tensorKernel(parameters).orElseThrow());
    }

    static float[] median(float[][] points, double eps, int maxiter, double ftol) {
        int m = points.length;
        double[] w = new double[m];
        java.util.Arrays.fill(w, 1.0);
        float[] median = weightedAverage(points, w);
        double[] dist = distances(points, median);
        double objective = sum(dist);
        for (int iter = 0; iter < maxiter; iter++) {
            for (int j = 0; j < m; j++) {
                w[j] = 1.0 / Math.max(dist[j], eps);
            }
            median = weightedAverage(points, w);
            dist = distances(points, median);
            double previous = objective;
            objective = sum(dist);
            if (Math.abs(previous - objective) <= ftol * objective) {
                break;
            }
        }
        return median;
    }

    private static float[] weightedAverage(float[][] points, double[] w) {
        double total = sum(w);
        int n = points[0].length;
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < points.length; j++) {
                s += w[j] * points[j][i];
            }
            out[i] = (float) (s / total);
        }
        return out;
    }

    private static double[] distances(float[][] points, float[] x) {
        double[] d = new double[points.length];
        for (int j = 0; j < points.length; j++) {
            double s = 0;
            float[] p = points[j];
            for (int i = 0; i < x.length; i++) {
                double v = p[i] - x[i];
                s += v * v;
            }
            d[j] = Math.sqrt(s);
        }
        return d;
    }

    private static double sum(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s;
    }
}
