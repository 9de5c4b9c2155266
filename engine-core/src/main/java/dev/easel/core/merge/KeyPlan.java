package dev.easel.core.merge;

import dev.easel.api.tensor.DType;
import java.util.List;

/**
 * How one output key is computed: the recipe graph pruned to that key, after the missing-key and channel
 * policies were applied. A {@link Read} alone is a copy; an {@link Apply} runs a method.
 */
sealed interface KeyPlan permits KeyPlan.Read, KeyPlan.Apply {
    /** The type of the value before conversion: the first model's type for this key. */
    DType dtype();

    /** The shape of the value. */
    long[] shape();

    /** Whether every method in the plan is element-wise and no channel slicing is needed. */
    boolean sliceable();

    /** Models read plus methods applied, to estimate working memory. */
    int nodes();

    /** One model's tensor. */
    record Read(int source, DType dtype, long[] shape) implements KeyPlan {
        @Override
        public boolean sliceable() {
            return true;
        }

        @Override
        public int nodes() {
            return 1;
        }
    }

    /**
     * A method over inputs. With {@code inpaintSlice}, input 0 has more input channels (9-channel inpainting or
     * 8-channel instruct-pix2pix {@code conv_in}) than the others (4): only its first channels are merged, the
     * extra ones are kept.
     */
    record Apply(CompiledMerge merge, List<KeyPlan> inputs, boolean inpaintSlice, DType dtype, long[] shape)
            implements KeyPlan {
        @Override
        public boolean sliceable() {
            return !inpaintSlice && merge.algorithm().elementwise()
                    && inputs.stream().allMatch(KeyPlan::sliceable);
        }

        @Override
        public int nodes() {
            return 2 + inputs.stream().mapToInt(KeyPlan::nodes).sum();
        }
    }
}
