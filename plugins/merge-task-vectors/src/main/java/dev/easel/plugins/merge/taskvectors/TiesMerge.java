package dev.easel.plugins.merge.taskvectors;

import ai.djl.ndarray.NDArray;
import dev.easel.api.ParameterSchema;
import dev.easel.api.ParameterSpec;
import dev.easel.api.ParameterValues;
import dev.easel.api.PluginDescriptor;
import dev.easel.api.merge.MergeContext;
import dev.easel.api.merge.TensorKernel;
import java.util.List;
import java.util.Optional;

/**
 * TIES-merging (Yadav et al. 2023): per tensor, <b>trim</b> each delta {@code model_i - base} to its largest
 * magnitudes, <b>elect</b> a sign per position, take the <b>disjoint mean</b> of the entries that agree with it,
 * and add {@code alpha} times that to the base.
 * <ul>
 *   <li>{@code variant=mergekit} (default; the paper's method as mergekit's {@code ties} implements it): keeps
 *       exactly {@code floor(k * n)} entries per delta, a vote of exactly 0 elects +;</li>
 *   <li>{@code variant=sd-mecha} ({@code add_difference_ties}): keeps every entry at least as large as the m-th
 *       smallest magnitude, {@code m = max(floor((1 - k) n), 1)} (one more entry than mergekit when magnitudes are
 *       distinct), and a vote of 0 elects 0, so that position gets no delta.</li>
 * </ul>
 * The election is by the sum of the weighted deltas ({@code vote_sgn=true}, the paper's "mass") or by the count of
 * signs ({@code vote_sgn=false}, sd-mecha's default). Trimming is per tensor, not over the whole model.
 */
public final class TiesMerge extends TaskVectorMerge {
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("ties/task-vectors", "1.0.0",
            "TIES: trim each delta to its top-k magnitudes, elect signs, disjoint mean, base + alpha * result");
    private static final ParameterSchema PARAMETERS = ParameterSchema.of(
            ParameterSpec.floating("alpha", 1.0, -2.0, 2.0, "Scale of the merged delta (mergekit's lambda)")
                    .withPerBlock(),
            ParameterSpec.floating("k", 0.2, 0.0, 1.0,
                    "Fraction of each delta's entries kept by magnitude (mergekit's density; 1 keeps all)")
                    .withPerBlock(),
            ParameterSpec.bool("vote_sgn", true,
                    "true: elect the sign of the summed deltas (paper); false: the sign of the count of signs"),
            ParameterSpec.choice("variant", "mergekit", List.of("mergekit", "sd-mecha"),
                    "mergekit: keep exactly floor(k n), a tied vote elects +; sd-mecha: threshold trim, a tied vote "
                            + "gives 0"),
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
    public Optional<TensorKernel> tensorKernel(ParameterValues parameters) {
        double alpha = parameters.getDouble("alpha");
        double k = parameters.getDouble("k");
        boolean voteSum = parameters.getBoolean("vote_sgn");
        boolean mecha = parameters.getString("variant").equals("sd-mecha");
        return Optional.of((key, seed, in) -> {
            float[][] d = TaskVectors.deltas(in);
            return ties(d, TaskVectors.weights(parameters, d.length), k, voteSum, mecha, in[0], alpha);
        });
    }

    @Override
    public NDArray merge(MergeContext context, List<NDArray> inputs, ParameterValues parameters) {
        return TaskVectors.run(context, inputs, tensorKernel(parameters).orElseThrow());
    }

    /** {@code base + alpha * TIES(d)}, written into {@code base}; the deltas {@code d} are trimmed in place. */
    static float[] ties(float[][] d, double[] w, double k, boolean voteSum, boolean mecha, float[] base,
                        double alpha) {
        for (float[] x : d) {
            if (mecha) {
                Sparsify.keepTopThreshold(x, k);
            } else {
                Sparsify.keepTopExact(x, k);
            }
        }
        return TaskVectors.combine(d, w, voteSum ? TaskVectors.Consensus.SUM : TaskVectors.Consensus.COUNT, !mecha,
                true, base, alpha);
    }
}
