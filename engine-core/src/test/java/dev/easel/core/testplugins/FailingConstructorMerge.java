package dev.easel.core.testplugins;

import ai.djl.ndarray.NDArray;
import dev.easel.api.ParameterValues;
import dev.easel.api.PluginDescriptor;
import dev.easel.api.merge.MergeAlgorithm;
import dev.easel.api.merge.MergeContext;
import java.util.List;

/** A service whose constructor throws: the host must record it as refused and carry on. */
public final class FailingConstructorMerge implements MergeAlgorithm {
    public FailingConstructorMerge() {
        throw new IllegalStateException("cannot initialise");
    }

    @Override
    public PluginDescriptor descriptor() {
        return PluginDescriptor.of("probe/failing", "1.0.0", "never created");
    }

    @Override
    public List<String> inputs() {
        return List.of("a");
    }

    @Override
    public NDArray merge(MergeContext context, List<NDArray> inputs, ParameterValues parameters) {
        throw new UnsupportedOperationException();
    }
}
