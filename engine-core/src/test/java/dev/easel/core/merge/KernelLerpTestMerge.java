package dev.easel.core.merge;

import ai.djl.ndarray.NDArray;
import dev.easel.api.ParameterValues;
import dev.easel.api.PluginDescriptor;
import dev.easel.api.merge.ElementwiseKernel;
import dev.easel.api.merge.MergeContext;
import java.util.List;
import java.util.Optional;

/**
 * {@link LerpTestMerge} as a pure-Java kernel only: {@code merge} fails, which proves that the engine took its
 * element-wise fast path.
 */
public final class KernelLerpTestMerge implements dev.easel.api.merge.MergeAlgorithm {
    private final LerpTestMerge lerp = new LerpTestMerge();

    @Override
    public PluginDescriptor descriptor() {
        return PluginDescriptor.of("test_klerp/core-test", "1.0.0", "lerp with a kernel, for engine tests");
    }

    @Override
    public dev.easel.api.ParameterSchema parameters() {
        return lerp.parameters();
    }

    @Override
    public List<String> inputs() {
        return lerp.inputs();
    }

    @Override
    public boolean elementwise() {
        return true;
    }

    @Override
    public Optional<ElementwiseKernel> kernel(ParameterValues parameters) {
        float t = (float) parameters.getDouble("alpha");
        return Optional.of((in, out, length) -> {
            for (int i = 0; i < length; i++) {
                out[i] = (in[1][i] - in[0][i]) * t + in[0][i];
            }
        });
    }

    @Override
    public NDArray merge(MergeContext context, List<NDArray> inputs, ParameterValues parameters) {
        // every test of this method must take the kernel path; reaching here is a failure of the engine
        throw new UnsupportedOperationException("the engine should have used the kernel for " + context.key());
    }
}
