package dev.easel.core.sd.sampling;

import ai.djl.ndarray.NDArray;

/** Sees each sampling step: the latent entering it and the x̂₀ it predicts. Arrays are valid during the call only. */
@FunctionalInterface
public interface StepListener {
    StepListener NONE = (i, t, x, x0) -> { };

    void step(int index, float timestep, NDArray x, NDArray predictedX0);
}
