package dev.easel.core.train.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.training.DiffusionSchedule;

/**
 * Stable Diffusion's training noise schedule: 1000 steps, "scaled_linear" betas from {@code sqrt(0.00085)} to
 * {@code sqrt(0.012)} (kohya's and diffusers' DDPM scheduler for SD1/SD2), computed in double precision.
 */
public final class NoiseSchedule implements DiffusionSchedule {
    public static final int STEPS = 1000;

    private final double[] alphasCumprod;
    private final String predictionType;
    private final NDManager manager;
    private NDArray alphasArray;

    public NoiseSchedule(NDManager manager, String predictionType) {
        this.manager = manager;
        this.predictionType = predictionType;
        this.alphasCumprod = new double[STEPS];
        double start = Math.sqrt(0.00085);
        double end = Math.sqrt(0.012);
        double product = 1;
        for (int i = 0; i < STEPS; i++) {
            // torch.linspace in float32 then squared, as diffusers computes betas.
            float s = (float) (start + (end - start) * i / (STEPS - 1));
            double beta = (double) (s * s);
            product *= 1 - beta;
            alphasCumprod[i] = product;
        }
    }

    /** ᾱ_t. */
    public double alphaCumprod(int t) {
        return alphasCumprod[t];
    }

    /** SNR(t) = ᾱ_t / (1 − ᾱ_t). */
    public double snr(int t) {
        return alphasCumprod[t] / (1 - alphasCumprod[t]);
    }

    @Override
    public int trainTimesteps() {
        return STEPS;
    }

    @Override
    public String predictionType() {
        return predictionType;
    }

    @Override
    public synchronized NDArray alphasCumprod() {
        if (alphasArray == null) {
            float[] f = new float[STEPS];
            for (int i = 0; i < STEPS; i++) {
                f[i] = (float) alphasCumprod[i];
            }
            alphasArray = manager.create(f);
        }
        return alphasArray;
    }

    /** {@code [batch, 1, 1, 1]} of {@code f(ᾱ_t)} for each element's timestep. */
    NDArray perSample(NDArray timesteps, NDManager m, java.util.function.DoubleUnaryOperator f) {
        long[] t = timesteps.toType(DataType.INT64, false).toLongArray();
        float[] v = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            v[i] = (float) f.applyAsDouble(alphasCumprod[(int) t[i]]);
        }
        return m.create(v, new Shape(t.length, 1, 1, 1));
    }

    @Override
    public NDArray addNoise(NDArray latents, NDArray noise, NDArray timesteps) {
        NDManager m = latents.getManager();
        NDArray a = perSample(timesteps, m, Math::sqrt);
        NDArray b = perSample(timesteps, m, x -> Math.sqrt(1 - x));
        return latents.mul(a).add(noise.mul(b));
    }

    /** The v-prediction target {@code sqrt(ᾱ)·ε − sqrt(1−ᾱ)·x0}. */
    public NDArray velocity(NDArray latents, NDArray noise, NDArray timesteps) {
        NDManager m = latents.getManager();
        NDArray a = perSample(timesteps, m, Math::sqrt);
        NDArray b = perSample(timesteps, m, x -> Math.sqrt(1 - x));
        return noise.mul(a).sub(latents.mul(b));
    }

    @Override
    public NDArray ddimStep(NDArray latents, NDArray predictedNoise, int t, int tNext) {
        double at = alphasCumprod[t];
        NDArray x0 = latents.sub(predictedNoise.mul((float) Math.sqrt(1 - at))).div((float) Math.sqrt(at));
        if (tNext < 0) {
            return x0;
        }
        double an = alphasCumprod[tNext];
        return x0.mul((float) Math.sqrt(an)).add(predictedNoise.mul((float) Math.sqrt(1 - an)));
    }
}
