package dev.easel.plugins.merge.taskvectors;

import dev.easel.api.ParameterValues;
import dev.easel.api.merge.MergeAlgorithm;
import java.util.List;

/**
 * What every task-vector method shares: a base model followed by any number of fine-tunes, each contributing its
 * delta from the base, with an optional {@code weights} list of one value per fine-tune.
 */
abstract class TaskVectorMerge implements MergeAlgorithm {
    @Override
    public final List<String> inputs() {
        return List.of("base", "a");
    }

    @Override
    public final boolean variadic() {
        return true;
    }

    @Override
    public final boolean hasBaseModel() {
        return true;
    }

    @Override
    public final void checkInputs(ParameterValues parameters, int models) {
        TaskVectors.checkWeights(parameters, models);
    }
}
