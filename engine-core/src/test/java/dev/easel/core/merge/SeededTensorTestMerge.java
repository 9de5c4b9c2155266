package dev.easel.core.merge;

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
 * A whole-tensor test method, {@code A * |B|_max + seed-dependent constant}, in two forms: {@code merge} on NDArrays
 * and a {@link TensorKernel}; with {@code kernel=false} it offers no kernel, so the two engine paths can be
 * compared, seeds included.
 */
public final class SeededTensorTestMerge implements MergeAlgorithm {
    @Override
    public PluginDescriptor descriptor() {
        return PluginDescriptor.of("test_seeded/core-test", "1.0.0", "whole-tensor method for engine tests");
    }

    @Override
    public ParameterSchema parameters() {
        return ParameterSchema.of(ParameterSpec.bool("kernel", true, "offer the tensor kernel"));
    }

    @Override
    public List<String> inputs() {
        return List.of("a", "b");
    }

    private static float constant(long seed) {
        return (seed & 0xff) / 256f;
    }

    @Override
    public Optional<TensorKernel> tensorKernel(ParameterValues parameters) {
        if (!parameters.getBoolean("kernel")) {
            return Optional.empty();
        }
        return Optional.of((key, seed, in) -> {
            float max = 0;
            for (float v : in[1]) {
                max = Math.max(max, Math.abs(v));
            }
            float[] out = new float[in[0].length];
            for (int i = 0; i < out.length; i++) {
                out[i] = in[0][i] * max + constant(seed);
            }
            return out;
        });
    }

    @Override
    public NDArray merge(MergeContext context, List<NDArray> inputs, ParameterValues parameters) {
        if (parameters.getBoolean("kernel")) {
            // with its kernel offered, the engine must take the tensor-kernel path
            throw new UnsupportedOperationException("the engine should have used the tensor kernel");
        }
        float max = inputs.get(1).abs().max().getFloat();
        return inputs.get(0).mul(max).addi(constant(context.seed()));
    }
}
