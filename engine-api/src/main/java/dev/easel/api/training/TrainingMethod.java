package dev.easel.api.training;

import dev.easel.api.EaselPlugin;
import dev.easel.api.ParameterValues;
import java.io.IOException;

/**
 * A way of training: LoRA, textual inversion, hypernetworks, DreamBooth, ... Ids are {@code family/impl}
 * ({@code lora/kohya}, {@code textual-inversion/a1111}). The method is stateless; each job gets its own
 * {@link TrainingSession}.
 */
public interface TrainingMethod extends EaselPlugin {
    /**
     * Starts a job: installs trainable parts and hooks through {@link TrainingContext#network()} and returns the
     * session the engine drives until the job ends.
     *
     * @param parameters validated against {@link #parameters()}
     */
    TrainingSession start(TrainingContext context, ParameterValues parameters) throws IOException;
}
