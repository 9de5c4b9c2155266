package dev.easel.api.merge;

import ai.djl.ndarray.NDArray;
import dev.easel.api.EaselPlugin;
import dev.easel.api.ParameterValues;
import java.util.List;
import java.util.Optional;

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

    /**
     * The same computation as {@link #merge} as a pure-Java kernel, for element-wise methods, with these
     * parameters (already resolved for the key's block). The engine prefers it when present: it must give the same
     * float32 values as {@link #merge} up to float32 rounding. Empty (the default) when the method has none.
     *
     * @since 1.2.0
     */
    default Optional<ElementwiseKernel> kernel(ParameterValues parameters) {
        return Optional.empty();
    }

    /**
     * The same computation as {@link #merge} as a pure-Java whole-tensor kernel, with these parameters (already
     * resolved for the key's block). The engine prefers it when present and the key's inputs are model tensors; it
     * must give the same float32 values as {@link #merge}. Empty (the default) when the method has none.
     *
     * @since 1.2.0
     */
    default Optional<TensorKernel> tensorKernel(ParameterValues parameters) {
        return Optional.empty();
    }

    /**
     * Checks the parameters against the number of models given, before any tensor is read (for example a list of
     * per-model {@code weights} of the wrong length). The default accepts everything.
     *
     * @param parameters the validated parameters (the plain ones, not per block)
     * @param models     how many inputs this merge has
     * @throws dev.easel.api.InvalidParameterException naming the parameter and the problem
     * @since 1.2.0
     */
    default void checkInputs(ParameterValues parameters, int models) {
    }

    /** Merges one key. */
    NDArray merge(MergeContext context, List<NDArray> inputs, ParameterValues parameters);
}
