package org.example.easel.average;

import ai.djl.ndarray.NDArray;
import dev.easel.api.PluginDescriptor;
import dev.easel.api.ParameterValues;
import dev.easel.api.merge.MergeAlgorithm;
import dev.easel.api.merge.MergeContext;
import java.util.List;

/** The arithmetic mean of two or more models (sd-mecha's {@code n_average}). */
public final class AverageMerge implements MergeAlgorithm {
    private static final PluginDescriptor DESCRIPTOR = PluginDescriptor.of("average/example", "0.3.0",
            "Arithmetic mean of any number of models (example third-party plugin)");

    @Override
    public PluginDescriptor descriptor() {
        return DESCRIPTOR;
    }

    @Override
    public List<String> inputs() {
        return List.of("a", "b");
    }

    @Override
    public boolean variadic() {
        return true;
    }

    @Override
    public NDArray merge(MergeContext context, List<NDArray> inputs, ParameterValues parameters) {
        NDArray sum = inputs.get(0).duplicate();
        for (int i = 1; i < inputs.size(); i++) {
            sum.addi(inputs.get(i));
        }
        return sum.divi(inputs.size());
    }
}
