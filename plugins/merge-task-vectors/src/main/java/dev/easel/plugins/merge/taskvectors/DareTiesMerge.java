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
 * DARE-TIES: DARE's random drop and rescale of each delta (seeded per key, see {@link DareMerge}) in place of TIES'
 * magnitude trim, then TIES' sign election; the agreeing entries are summed ({@code normalize=false}, mergekit's
 * {@code dare_ties} default) or averaged ({@code normalize=true}, sd-mecha's {@code add_ties_with_dare}), and
 * {@code alpha} times the result is added to the base. A vote of exactly 0 elects + (mergekit).
 */
public final class DareTiesMerge extends TaskVectorMerge {
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("dare_ties/task-vectors", "1.0.0",
            "DARE-TIES: random drop and rescale of each delta, TIES sign election, base + alpha * result");
    private static final ParameterSchema PARAMETERS = ParameterSchema.of(
            ParameterSpec.floating("alpha", 1.0, -2.0, 2.0, "Scale of the merged delta (mergekit's lambda)")
                    .withPerBlock(),
            DareMerge.PROBABILITY, DareMerge.RESCALE,
            ParameterSpec.bool("vote_sgn", true,
                    "true: elect the sign of the summed deltas (paper); false: the sign of the count of signs"),
            ParameterSpec.bool("normalize", false,
                    "false: sum the agreeing entries (mergekit); true: average them (sd-mecha)"),
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
        TaskVectors.Consensus consensus = parameters.getBoolean("vote_sgn") ? TaskVectors.Consensus.SUM
                : TaskVectors.Consensus.COUNT;
        boolean normalize = parameters.getBoolean("normalize");
        return Optional.of((key, seed, in) -> {
            float[][] d = TaskVectors.deltas(in);
            DareMerge.drop(d, seed, parameters);
            return TaskVectors.combine(d, TaskVectors.weights(parameters, d.length), consensus, true, normalize,
                    in[0], alpha);
        });
    }

    @Override
    public NDArray merge(MergeContext context, List<NDArray> inputs, ParameterValues parameters) {
        return TaskVectors.run(context, inputs, tensorKernel(parameters).orElseThrow());
    }

    /** The TIES election and combination of already sparsified deltas. */
    static float[] elect(float[][] d, double[] w, boolean voteSum, boolean normalize) {
        return TaskVectors.combine(d, w, voteSum ? TaskVectors.Consensus.SUM : TaskVectors.Consensus.COUNT, true,
                normalize);
    }
}
