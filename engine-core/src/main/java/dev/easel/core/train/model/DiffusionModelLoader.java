package dev.easel.core.train.model;

import ai.djl.ndarray.NDManager;
import java.io.IOException;

/**
 * Builds the {@link DiffusionModel} of a job from {@code pretrained_model_name_or_path}. Found with
 * {@link java.util.ServiceLoader} on the engine's class path (an engine part, not a plugin SPI): the networks code
 * registers one loader for SD checkpoints; tests register toy models.
 */
public interface DiffusionModelLoader {
    /** A short name for messages ({@code sd-checkpoint}). */
    String name();

    /** Whether this loader can open the location (by extension, folder layout or header), without loading it. */
    boolean accepts(String location);

    /**
     * Loads the model. Frozen weights may be kept in a lower precision; every tensor a method may train is fp32.
     *
     * @param manager where the model's arrays live (the job's manager)
     */
    DiffusionModel load(String location, ModelOptions options, NDManager manager) throws IOException;
}
