package dev.easel.api.training;

import ai.djl.ndarray.NDArray;
import java.util.List;
import org.osgi.annotation.versioning.ProviderType;

/**
 * One optimisation step as the engine prepared it: the batch, the sampled noise and timesteps, and the shared
 * diffusion loss computed on demand (with the job's prediction type, min-SNR weighting and noise offset).
 */
@ProviderType
public interface TrainingStep {
    /** The global step, from 0. */
    long index();

    /**
     * A seed for the method's own random choices in this step (LoRA dropout, rank dropout), derived from the job's
     * seed and the step. Deriving randomness from it, rather than keeping a generator across steps, is what lets a
     * killed and resumed job end bit-identical to an uninterrupted one. The engine also reseeds DJL's generator
     * from it before each step.
     *
     * @since 0.10
     */
    long seed();

    /** The VAE latents of the batch, {@code [batch, 4, h/8, w/8]}. */
    NDArray latents();

    /** The captions of the batch, after shuffling and dropout. */
    List<String> captions();

    /** The role of each batch element (instance or class image). */
    List<DatasetRole> roles();

    /** The sampled timesteps, {@code [batch]}. */
    NDArray timesteps();

    /** The sampled noise, shaped like {@link #latents()}. */
    NDArray noise();

    /** The loss of each batch element, {@code [batch]}, before reduction. */
    NDArray perSampleDiffusionLoss();

    /**
     * The same per-element loss (same latents, noise, timesteps and loss options) with the batch conditioned on other
     * prompts, one per element: textual inversion trains on prompt templates ({@code "a photo of a [name]"}) rather
     * than on the images' captions.
     *
     * @param prompts one prompt per batch element
     * @throws IllegalArgumentException if the count differs from the batch size
     * @since 0.11
     */
    NDArray perSampleDiffusionLoss(List<String> prompts);

    /** The mean of {@link #perSampleDiffusionLoss()}: what most methods optimise. */
    default NDArray diffusionLoss() {
        return perSampleDiffusionLoss().mean();
    }

    /** Runs the UNet (with every installed hook) on arbitrary inputs, for methods with their own objective. */
    NDArray predictNoise(NDArray noisyLatents, NDArray timesteps, NDArray context);
}
