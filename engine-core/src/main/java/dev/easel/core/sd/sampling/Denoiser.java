package dev.easel.core.sd.sampling;

import ai.djl.ndarray.NDArray;

/** The (guided) model a sampler steps: the UNet's raw output (ε or v) for latents {@code x} at timestep {@code t}. */
@FunctionalInterface
public interface Denoiser {
    /**
     * @param x     latents {@code [B, 4, h, w]}
     * @param t     UNet timestep, fractional for k-diffusion schedules
     * @param step  index of the sampling step (for guidance hooks)
     */
    NDArray predict(NDArray x, float t, int step);
}
