package dev.easel.plugins.merge.basic;

import ai.djl.ndarray.NDArray;
import dev.easel.api.ParameterSchema;
import dev.easel.api.ParameterSpec;
import dev.easel.api.ParameterValues;
import dev.easel.api.PluginDescriptor;
import dev.easel.api.merge.ElementwiseKernel;
import dev.easel.api.merge.MergeAlgorithm;
import dev.easel.api.merge.MergeContext;
import java.util.List;
import java.util.Optional;

/**
 * Selects one input unchanged: with per-block {@code index} values a recipe takes whole blocks from different
 * models (for example the text encoder of A with the UNet of B), and with one input it converts a model to
 * another dtype or drops its EMA keys.
 */
public final class CopyMerge implements MergeAlgorithm {
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("copy/basic", "1.1.0",
            "Copies input number 'index' (0 = A) unchanged; per block it picks blocks from different models");
    private static final ParameterSchema PARAMETERS = ParameterSchema.of(
            ParameterSpec.floating("index", 0, 0, 15, "Which input to copy: 0 = A, 1 = B, ...").withPerBlock());

    @Override
    public PluginDescriptor descriptor() {
        return DESCRIPTOR;
    }

    @Override
    public ParameterSchema parameters() {
        return PARAMETERS;
    }

    @Override
    public List<String> inputs() {
        return List.of("a");
    }

    @Override
    public boolean variadic() {
        return true;
    }

    @Override
    public boolean elementwise() {
        return true;
    }

    @Override
    public Optional<ElementwiseKernel> kernel(ParameterValues parameters) {
        double index = parameters.getDouble("index");
        if (index != Math.rint(index)) {
            return Optional.empty();
        }
        int pick = (int) index;
        return Optional.of((in, out, length) -> {
            if (pick >= in.length) {
                throw new IllegalArgumentException("copy: index " + pick + " is not one of the " + in.length
                        + " inputs (0 to " + (in.length - 1) + ")");
            }
            System.arraycopy(in[pick], 0, out, 0, length);
        });
    }

    @Override
    public NDArray merge(MergeContext context, List<NDArray> inputs, ParameterValues parameters) {
        double index = parameters.getDouble("index");
        if (index != Math.rint(index) || index >= inputs.size()) {
            throw new IllegalArgumentException("copy: index " + index + " is not one of the " + inputs.size()
                    + " inputs (0 to " + (inputs.size() - 1) + ")");
        }
        return inputs.get((int) index).duplicate();
    }
}
