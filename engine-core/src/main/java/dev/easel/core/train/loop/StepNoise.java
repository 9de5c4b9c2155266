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
    /**
     * Draws the noise of one micro-batch of {@code [batch, channels, h, w]} latents, in kohya's order: Gaussian
     * noise, the offset (adaptive to each channel's mean when asked), then multires noise.
     *
     * @param latents the batch's latents (for the adaptive offset), or {@code null}
     */
    public static StepNoise draw(long seed, LossOptions o, float[] latents, int batch, int channels, int h, int w) {
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
                    int base = (b * channels + c) * plane;
                    double s = strength;
                    if (o.adaptiveNoiseScale() != 0 && latents != null) {
                        double mean = 0;
                        for (int i = 0; i < plane; i++) {
                            mean += latents[base + i];
                        }
                        s = Math.max(0, s + o.adaptiveNoiseScale() * Math.abs(mean / plane));
                    }
                    float offset = (float) (s * rng.nextGaussian());
                    for (int i = 0; i < plane; i++) {
                        noise[base + i] += offset;
                    }
                }
            }
        }
        if (o.multiresIterations() > 0) {
            pyramid(noise, rng, batch * channels, h, w, o.multiresIterations(), o.multiresDiscount());
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

    /**
     * kohya's {@code pyramid_noise_like}: adds bilinearly upsampled noise of ever coarser grids (a random factor in
     * [2, 4) per level), weighted {@code discount^i}, then rescales to unit standard deviation.
     */
    static void pyramid(float[] noise, SplittableRandom rng, int planes, int h, int w, int iterations,
                        double discount) {
        int plane = h * w;
        for (int i = 0; i < iterations; i++) {
            double r = rng.nextDouble() * 2 + 2;
            int hn = Math.max(1, (int) (h / Math.pow(r, i)));
            int wn = Math.max(1, (int) (w / Math.pow(r, i)));
            double weight = Math.pow(discount, i);
            float[] coarse = new float[hn * wn];
            for (int p = 0; p < planes; p++) {
                for (int k = 0; k < coarse.length; k++) {
                    coarse[k] = (float) rng.nextGaussian();
                }
                int base = p * plane;
                for (int y = 0; y < h; y++) {
                    // Bilinear, align_corners=False, as torch.nn.Upsample(mode="bilinear").
                    double sy = Math.max(0, (y + 0.5) * hn / h - 0.5);
                    int y0 = Math.min((int) sy, hn - 1);
                    int y1 = Math.min(y0 + 1, hn - 1);
                    double fy = sy - y0;
                    for (int x = 0; x < w; x++) {
                        double sx = Math.max(0, (x + 0.5) * wn / w - 0.5);
                        int x0 = Math.min((int) sx, wn - 1);
                        int x1 = Math.min(x0 + 1, wn - 1);
                        double fx = sx - x0;
                        double v = (1 - fy) * ((1 - fx) * coarse[y0 * wn + x0] + fx * coarse[y0 * wn + x1])
                                + fy * ((1 - fx) * coarse[y1 * wn + x0] + fx * coarse[y1 * wn + x1]);
                        noise[base + y * w + x] += (float) (v * weight);
                    }
                }
            }
            if (wn == 1 || hn == 1) {
                break;
            }
        }
        double sum = 0;
        for (float v : noise) {
            sum += v;
        }
        double mean = sum / noise.length;
        double sq = 0;
        for (float v : noise) {
            sq += (v - mean) * (v - mean);
        }
        double std = Math.sqrt(sq / Math.max(1, noise.length - 1));
        for (int i = 0; i < noise.length; i++) {
            noise[i] = (float) (noise[i] / std);
        }
    }
}
