package dev.easel.api.merge;

import ai.djl.ndarray.NDArray;
import dev.easel.api.EaselPlugin;
import dev.easel.api.ParameterValues;
import java.util.List;

/**
 * A merge method: a pure per-key function of N input tensors and parameters, like sd-mecha's
 * {@code @merge_method}s. Ids are {@code name/impl} ({@code weighted_sum/basic}); users select by the name alone
 * when one implementation is installed.
 *
 * <p>The engine guarantees: every input has the same shape and is a float32 array owned by
 * {@link MergeContext#manager()}; the parameters were validated against {@link #parameters()}, with per-block values
 * already resolved for this key. The algorithm returns a float32 array of the same shape; the engine converts it to
 * the output dtype. Inputs must not be modified in place. Non-float tensors never reach an algorithm.
 */
public interface MergeAlgorithm extends EaselPlugin {
    /**
     * The roles of the inputs, in order: {@code ["a", "b"]} for a weighted sum, {@code ["a", "b", "c"]} for an add
     * difference (A + alpha (B - C)). For a variable number of models, the roles of the minimum and
     * {@link #variadic()} true.
     */
    List<String> inputs();

    /** Whether more models than {@link #inputs()} may be given (task arithmetic, TIES, model stock). */
    default boolean variadic() {
        return false;
    }

    /**
     * Whether the model at index 0 is a base that the others are relative to (task vectors). Used in messages and
     * in key-missing policies; the computation is up to the algorithm.
     */
    default boolean hasBaseModel() {
        return false;
    }

    /**
     * Whether each output element depends only on the input elements at the same position (weighted sum, add
     * difference, triple sum). The engine may then feed the algorithm slices of a large tensor instead of the whole
     * tensor, which bounds memory and lets several threads share one big key. Algorithms that use norms, sorts,
     * random masks or any whole-tensor statistic must keep the default {@code false}.
     */
    default boolean elementwise() {
        return false;
    }

    /** Merges one key. */
    NDArray merge(MergeContext context, List<NDArray> inputs, ParameterValues parameters);
}
