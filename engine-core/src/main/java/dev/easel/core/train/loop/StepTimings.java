package dev.easel.core.train.loop;

/**
 * Where one optimiser step's time went, in seconds: what the loop adds around the model ({@code data},
 * {@code update}) against the forward and backward themselves ({@code compute}), so a user (and the
 * train-loop-overhead benchmark) can see the loop's own share.
 *
 * @param data    loading the batches (latent cache, random crops), drawing noise and timesteps
 * @param compute the method's loss (text encoder, UNet, loss) and its backward, all micro-batches
 * @param update  gradient clipping, learning rates, the optimiser, zeroing gradients, the method's after-step hook
 */
public record StepTimings(double data, double compute, double update) {
}
