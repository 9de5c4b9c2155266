package dev.easel.core.sd.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/**
 * Gaussian noise from a seed, generated in Java so that a seed gives the same latents on every machine and thread
 * count (libtorch's CPU generator depends on neither, but its stream is not specified; this one is).
 */
public final class NoiseSource {
    private final SplittableRandom random;

    public NoiseSource(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** The next {@code shape} of standard normal values. */
    public NDArray next(NDManager manager, Shape shape) {
        float[] v = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) random.nextGaussian();
        }
        return manager.create(v, shape);
    }
}
