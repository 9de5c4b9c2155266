package dev.easel.plugins.merge.taskvectors;

import ai.djl.ndarray.NDArray;
import dev.easel.api.InvalidParameterException;
import dev.easel.api.ParameterSpec;
import dev.easel.api.ParameterType;
import dev.easel.api.ParameterValues;
import dev.easel.api.merge.MergeContext;
import dev.easel.api.merge.TensorKernel;
import java.util.List;

/**
 * The generalized task arithmetic that task arithmetic, TIES, DARE and DARE-TIES are instances of (as in mergekit's
 * {@code generalized_task_arithmetic.py}): deltas {@code d_i = model_i - base}, optionally sparsified, weighted,
 * optionally masked by a sign consensus, summed (or averaged over the entries that survive), scaled by
 * {@code alpha} and added to the base. Work is done on float32 Java arrays, with sums of products in double.
 */
final class TaskVectors {
    /** The per-model weights parameter shared by the task-vector methods. */
    static final ParameterSpec WEIGHTS = new ParameterSpec("weights", ParameterType.FLOAT_LIST, "", -10.0, 10.0,
            List.of(), false, "Weight of each model's delta, comma-separated, one per model after the base "
            + "(default 1 each)");

    /** How sign conflicts between deltas are resolved before combining. */
    enum Consensus {
        /** No election: every delta entry counts. */
        NONE,
        /** Elect the sign of the weighted sum of the deltas (the TIES paper's "mass", mergekit's "sum"). */
        SUM,
        /** Elect the sign of the count of positive minus negative entries (sd-mecha's default, mergekit "count"). */
        COUNT
    }

    private TaskVectors() {
    }

    /** Turns inputs 1.. into their deltas relative to input 0, in place, and returns them. */
    static float[][] deltas(float[][] inputs) {
        float[] base = inputs[0];
        float[][] d = new float[inputs.length - 1][];
        for (int j = 0; j < d.length; j++) {
            float[] x = inputs[j + 1];
            for (int i = 0; i < x.length; i++) {
                x[i] -= base[i];
            }
            d[j] = x;
        }
        return d;
    }

    /** Runs a whole-tensor kernel on NDArray inputs: {@code merge} and the engine's fast path share one formula. */
    static NDArray run(MergeContext context, List<NDArray> inputs, TensorKernel kernel) {
        float[][] in = new float[inputs.size()][];
        for (int j = 0; j < in.length; j++) {
            in[j] = inputs.get(j).toFloatArray();
        }
        return context.manager().create(kernel.apply(context.key(), context.seed(), in), inputs.get(0).getShape());
    }

    /** The weights for {@code models} deltas: the {@code weights} list, or 1 each when it is empty. */
    static double[] weights(ParameterValues parameters, int deltas) {
        List<Double> w = parameters.getDoubles("weights");
        double[] out = new double[deltas];
        for (int j = 0; j < deltas; j++) {
            out[j] = w.isEmpty() ? 1.0 : w.get(j);
        }
        return out;
    }

    /** Refuses a {@code weights} list whose length is not the number of models after the base. */
    static void checkWeights(ParameterValues parameters, int models) {
        List<Double> w = parameters.getDoubles("weights");
        if (!w.isEmpty() && w.size() != models - 1) {
            throw new InvalidParameterException("weights", "parameter 'weights' has " + w.size() + " value(s) but "
                    + (models - 1) + " model(s) follow the base; give one weight per model after the base");
        }
    }

    /**
     * Combines deltas into one: {@code sum_i w_i d_i m_i}, divided by {@code sum_i w_i m_i} at each position when
     * {@code normalize} (positions where that is 0 give 0), where {@code m_i} is 1 without consensus and otherwise
     * whether {@code sign(w_i d_i)} equals the elected sign (a zero entry never matches).
     *
     * @param zeroVoteIsPositive mergekit elects + when the vote is exactly 0; sd-mecha elects 0 (the position
     *                           becomes 0)
     */
    static float[] combine(float[][] d, double[] w, Consensus consensus, boolean zeroVoteIsPositive,
                           boolean normalize) {
        return combine(d, w, consensus, zeroVoteIsPositive, normalize, null, 1.0);
    }

    /**
     * {@link #combine} fused with {@code base + alpha * result} when {@code base} is not null (one pass, one array
     * fewer: this loop is most of the time of TIES and DARE on a full model).
     */
    static float[] combine(float[][] d, double[] w, Consensus consensus, boolean zeroVoteIsPositive,
                           boolean normalize, float[] base, double alpha) {
        int n = d[0].length;
        int m = d.length;
        float[] out = base != null ? base : new float[n];
        for (int i = 0; i < n; i++) {
            double sum = 0;
            double divisor = 0;
            if (consensus == Consensus.NONE) {
                for (int j = 0; j < m; j++) {
                    sum += w[j] * d[j][i];
                    divisor += w[j];
                }
            } else {
                double vote = 0;
                for (int j = 0; j < m; j++) {
                    double v = w[j] * d[j][i];
                    vote += consensus == Consensus.SUM ? v : Math.signum(v);
                }
                double elected = vote > 0 ? 1 : vote < 0 ? -1 : zeroVoteIsPositive ? 1 : 0;
                for (int j = 0; j < m; j++) {
                    double v = w[j] * d[j][i];
                    // agrees when v has the elected sign; zero entries and a zero election never agree
                    double agrees = v * elected > 0 ? 1 : 0;
                    sum += agrees * v;
                    divisor += agrees * w[j];
                }
            }
            double mixed = normalize ? (divisor == 0 ? 0 : sum / divisor) : sum;
            out[i] = base != null ? (float) (base[i] + alpha * mixed) : (float) mixed;
        }
        return out;
    }

}
