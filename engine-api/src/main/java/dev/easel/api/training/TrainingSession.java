package dev.easel.api.training;

import ai.djl.ndarray.NDArray;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * One training job of one method, driven by the engine's loop.
 */
@ConsumerType
public interface TrainingSession extends AutoCloseable {
    /** What the optimiser updates, in groups with their own learning rates. */
    List<ParameterGroup> parameterGroups();

    /** The images the job needs. The default is the user's instance images alone. */
    default List<DatasetRole> datasetRoles() {
        return List.of(DatasetRole.INSTANCE);
    }

    /**
     * The loss to minimise in this step. The default is the shared diffusion loss; DreamBooth weights class images
     * by its prior-loss weight, Dream Artist adds its reconstruction term, CLIP inversion replaces it entirely.
     */
    default NDArray loss(TrainingStep step) {
        return step.diffusionLoss();
    }

    /** Called after each optimiser step (constraints, logging of method-specific values). */
    default void afterStep(TrainingStep step) {
    }

    /**
     * The learning rate of a group for a step; the default keeps the job's schedule. Null-text inversion decays
     * its rate per diffusion timestep; Dream Artist scales the negative embedding's rate.
     *
     * @param scheduled the rate the job's scheduler gives
     */
    default double learningRate(ParameterGroup group, long step, double scheduled) {
        return scheduled;
    }

    /**
     * Whether the method has reached its own end before the job's step budget (null-text inversion ends after its
     * last timestep). The default is never.
     */
    default boolean finished() {
        return false;
    }

    /** The method's own state beyond the parameter groups, for exact resume. */
    default Map<String, NDArray> state() {
        return Map.of();
    }

    /** Restores what {@link #state()} returned. */
    default void restore(Map<String, NDArray> state) {
    }

    /** Writes the result in the format its users load. */
    void export(TrainingExport export) throws IOException;

    @Override
    default void close() {
    }
}
