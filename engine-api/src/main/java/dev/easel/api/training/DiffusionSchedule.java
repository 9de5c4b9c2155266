package dev.easel.api.training;

import ai.djl.ndarray.NDArray;
import org.osgi.annotation.versioning.ProviderType;

/**
 * The noise schedule of the job's model, for methods that step the diffusion process themselves (null-text
 * inversion's DDIM inversion and per-step optimisation, Dream Artist's reconstruction term).
 */
@ProviderType
public interface DiffusionSchedule {
    /** Number of training timesteps (1000 for SD). */
    int trainTimesteps();

    /** {@code epsilon} or {@code v_prediction}. */
    String predictionType();

    /** The cumulative products of alphas, {@code [trainTimesteps]}. */
    NDArray alphasCumprod();

    /** {@code sqrt(a_t) x0 + sqrt(1 - a_t) noise} for each batch element's timestep. */
    NDArray addNoise(NDArray latents, NDArray noise, NDArray timesteps);

    /**
     * One deterministic DDIM step from timestep {@code t} to {@code tNext} given the predicted noise
     * ({@code tNext > t} inverts, as null-text inversion's first phase does; {@code tNext < 0} means the final step
     * to x0).
     */
    NDArray ddimStep(NDArray latents, NDArray predictedNoise, int t, int tNext);
}
