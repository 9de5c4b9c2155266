package dev.easel.core.train.loop;

import java.util.SplittableRandom;

/**
 * The random draws of one micro-batch: timesteps, noise (with offset), perturbation noise. Drawn in Java from a
 * generator seeded by (job seed, step, micro-batch), so a resumed run draws exactly what the uninterrupted run
 * drew, on any device.
 *
 * @param timesteps    per element
 * @param noise        {@code [batch * channels * h * w]}, offset already added
 * @param perturbation the input-perturbation noise, or {@code null}
 */
public record StepNoise(long[] timesteps, float[] noise, float[] perturbation) {
    /** Draws the noise of one micro-batch of {@code [batch, channels, h, w]} latents. */
    public static StepNoise draw(long seed, LossOptions o, int batch, int channels, int h, int w) {
        SplittableRandom rng = new SplittableRandom(seed);
        long[] t = new long[batch];
        for (int i = 0; i < batch; i++) {
            t[i] = o.minTimestep() + rng.nextInt(o.maxTimestep() - o.minTimestep());
        }
        int plane = h * w;
        float[] noise = new float[batch * channels * plane];
        for (int i = 0; i < noise.length; i++) {
            noise[i] = (float) rng.nextGaussian();
        }
        if (o.noiseOffset() > 0) {
            double strength = o.noiseOffsetRandom() ? rng.nextDouble() * o.noiseOffset() : o.noiseOffset();
            for (int b = 0; b < batch; b++) {
                for (int c = 0; c < channels; c++) {
                    float offset = (float) (strength * rng.nextGaussian());
                    int base = (b * channels + c) * plane;
                    for (int i = 0; i < plane; i++) {
                        noise[base + i] += offset;
                    }
                }
            }
        }
        float[] perturbation = null;
        if (o.ipNoiseGamma() > 0) {
            double gamma = o.ipNoiseRandom() ? rng.nextDouble() * o.ipNoiseGamma() : o.ipNoiseGamma();
            perturbation = new float[noise.length];
            for (int i = 0; i < perturbation.length; i++) {
                perturbation[i] = (float) (gamma * rng.nextGaussian());
            }
        }
        return new StepNoise(t, noise, perturbation);
    }
}
