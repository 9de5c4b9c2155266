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
 * {@code A + alpha * (B - C)}: AUTOMATIC1111's and SuperMerger's "add difference", sd-mecha's
 * {@code add_difference}. With A an inpainting model, B a custom model, C its base and alpha 1, this is the usual
 * "make an inpainting version" recipe. Computed in float32 in one pass (AUTOMATIC1111 and SuperMerger store B - C
 * in the input dtype first, so fp16 inputs round twice there).
 */
public final class AddDifferenceMerge implements MergeAlgorithm {
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("add_difference/basic", "1.1.0",
            "Add difference A + alpha * (B - C), as AUTOMATIC1111, SuperMerger and sd-mecha compute it");
    private static final ParameterSchema PARAMETERS = ParameterSchema.of(
            ParameterSpec.floating("alpha", 1.0, -2.0, 2.0,
                    "Multiplier of the difference B - C added to A (1 adds all of it)").withPerBlock());

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
        return List.of("a", "b", "c");
    }

    @Override
    public boolean elementwise() {
        return true;
    }

    @Override
    public Optional<ElementwiseKernel> kernel(ParameterValues parameters) {
        double alpha = parameters.getDouble("alpha");
        if (alpha == 0.0) {
            return Optional.of((in, out, length) -> System.arraycopy(in[0], 0, out, 0, length));
        }
        float t = (float) alpha;
        return Optional.of((in, out, length) -> {
            float[] a = in[0];
            float[] b = in[1];
            float[] c = in[2];
            for (int i = 0; i < length; i++) {
                out[i] = (b[i] - c[i]) * t + a[i];
            }
        });
    }

    @Override
    public NDArray merge(MergeContext context, List<NDArray> inputs, ParameterValues parameters) {
        double alpha = parameters.getDouble("alpha");
        NDArray a = inputs.get(0);
        if (alpha == 0.0) {
            return a.duplicate();
        }
        return inputs.get(1).sub(inputs.get(2)).muli((float) alpha).addi(a);
    }
}
