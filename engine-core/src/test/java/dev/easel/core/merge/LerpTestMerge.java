package dev.easel.core.merge;

import ai.djl.ndarray.NDArray;
import dev.easel.api.ParameterSchema;
import dev.easel.api.ParameterSpec;
import dev.easel.api.ParameterValues;
import dev.easel.api.PluginDescriptor;
import dev.easel.api.merge.MergeAlgorithm;
import dev.easel.api.merge.MergeContext;
import java.util.List;

/** A test-only weighted sum, so engine tests need no plugin module. Fails on a key named {@code boom}. */
public final class LerpTestMerge implements MergeAlgorithm {
    @Override
    public PluginDescriptor descriptor() {
        return PluginDescriptor.of("test_lerp/core-test", "1.0.0", "lerp for engine tests");
    }

    @Override
    public ParameterSchema parameters() {
        return ParameterSchema.of(ParameterSpec.floating("alpha", 0.5, 0, 1, "share of B").withPerBlock(),
                ParameterSpec.floating("beta", 0.0, 0, 1, "unused"));
    }

    @Override
    public List<String> inputs() {
        return List.of("a", "b");
    }

    @Override
    public boolean elementwise() {
        return true;
    }

    @Override
    public NDArray merge(MergeContext context, List<NDArray> inputs, ParameterValues parameters) {
        if (context.key().equals("boom")) {
            throw new IllegalStateException("boom");
        }
        NDArray a = inputs.get(0);
        return inputs.get(1).sub(a).muli((float) parameters.getDouble("alpha")).addi(a);
    }
}
