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
import java.util.Locale;

/**
 * DARE, "drop and rescale" (Yu et al. 2024), linear form: each delta {@code model_i - base} loses a random fraction
 * {@code probability} of its entries, the survivors are rescaled, and {@code base + alpha * sum_i w_i d_i} is
 * returned (mergekit's {@code dare_linear}; with one model, sd-mecha's {@code dropout}).
 *
 * <p>Seeding: every key draws its own mask from {@code --seed} and the key name, and each model's mask from that
 * and the model's position, with a counter-based generator (entry {@code i} is kept when
 * {@code SplitMix64(seed + i * golden) < 1 - probability}), so a merge is reproducible whatever the thread count.
 *
 * <p>Rescale ({@code rescale}): {@code paper} (default) divides survivors by {@code 1 - probability}, as the paper,
 * sd-mecha and mergekit before 2025-02 do; {@code l1} scales them so the delta keeps its L1 norm, as mergekit does
 * since 2025-02; {@code none} leaves them.
 */
public final class DareMerge extends TaskVectorMerge {
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("dare/task-vectors", "1.0.0",
            "DARE: randomly drop a fraction of each delta, rescale the rest, base + alpha * sum (seeded per key)");
    static final ParameterSpec PROBABILITY = ParameterSpec.floating("probability", 0.9, 0.0, 0.999,
            "Fraction of each delta's entries dropped at random (sd-mecha's name; mergekit's density = 1 - it)")
            .withPerBlock();
    static final ParameterSpec RESCALE = ParameterSpec.choice("rescale", "paper", List.of("paper", "l1", "none"),
            "paper: divide kept entries by 1 - probability; l1: keep the delta's L1 norm (mergekit >= 2025-02); "
                    + "none");
    private static final ParameterSchema PARAMETERS = ParameterSchema.of(
            ParameterSpec.floating("alpha", 1.0, -2.0, 2.0, "Scale of the summed deltas (mergekit's lambda)")
                    .withPerBlock(),
            PROBABILITY, RESCALE, TaskVectors.WEIGHTS);

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
        return Optional.of((key, seed, in) -> {
            float[][] d = TaskVectors.deltas(in);
            drop(d, seed, parameters);
            return TaskVectors.combine(d, TaskVectors.weights(parameters, d.length), TaskVectors.Consensus.NONE,
                    true, false, in[0], alpha);
        });
    }

    @Override
    public NDArray merge(MergeContext context, List<NDArray> inputs, ParameterValues parameters) {
        return TaskVectors.run(context, inputs, tensorKernel(parameters).orElseThrow());
    }

    /** Drops and rescales every delta with its own seeded mask. */
    static void drop(float[][] d, long keySeed, ParameterValues parameters) {
        double p = parameters.getDouble("probability");
        Sparsify.Rescale rescale = rescale(parameters);
        for (int j = 0; j < d.length; j++) {
            Sparsify.dropAndRescale(d[j], Sparsify.bernoulliKeep(Sparsify.modelSeed(keySeed, j), p), p, rescale);
        }
    }

    static Sparsify.Rescale rescale(ParameterValues parameters) {
        return Sparsify.Rescale.valueOf(parameters.getString("rescale").toUpperCase(Locale.ROOT));
    }
}
