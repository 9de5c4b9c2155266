package dev.easel.core.sd.schedule;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.training.DiffusionSchedule;
import dev.easel.core.sd.model.ScheduleConfig;

/**
 * The DDPM training schedule as ldm computes it ({@code make_beta_schedule("linear")}, diffusers' "scaled_linear"):
 * {@code betas = linspace(√start, √end, T)²} in float64, {@code ᾱ = cumprod(1 − β)} in float64, kept as float32 as ldm
 * stores it. Everything derived (DDIM coefficients, k-diffusion sigmas) comes from those float32 values, as in the
 * reference.
 */
public final class NoiseSchedule implements DiffusionSchedule {
    private final ScheduleConfig config;
    private final float[] alphasCumprod;
    private final NDManager manager;
    private NDArray alphasArray;

    public NoiseSchedule(ScheduleConfig config, NDManager manager) {
        this.config = config;
        this.manager = manager;
        int n = config.timesteps();
        double start = Math.sqrt(config.linearStart());
        double stop = Math.sqrt(config.linearEnd());
        double step = (stop - start) / (n - 1);
        alphasCumprod = new float[n];
        double prod = 1;
        for (int i = 0; i < n; i++) {
            double s = i == n - 1 ? stop : i * step + start;
            double beta = s * s;
            prod *= 1 - beta;
            alphasCumprod[i] = (float) prod;
        }
    }

    public ScheduleConfig config() {
        return config;
    }

    @Override
    public int trainTimesteps() {
        return config.timesteps();
    }

    @Override
    public String predictionType() {
        return config.prediction().equals("v") ? "v_prediction" : "epsilon";
    }

    /** ᾱ_t as stored (float32). */
    public float alphaCumprod(int t) {
        return alphasCumprod[t];
    }

    /** A copy of ᾱ. */
    public float[] alphasCumprodArray() {
        return alphasCumprod.clone();
    }

    /** ᾱ as one array shared by every caller (created once in the model's manager; do not close it). */
    @Override
    public synchronized NDArray alphasCumprod() {
        if (alphasArray == null) {
            alphasArray = manager.create(alphasCumprod);
        }
        return alphasArray;
    }

    /** k-diffusion's σ_t = √((1 − ᾱ_t)/ᾱ_t). */
    public double sigma(int t) {
        double a = alphasCumprod[t];
        return Math.sqrt((1 - a) / a);
    }

    @Override
    public NDArray addNoise(NDArray latents, NDArray noise, NDArray timesteps) {
        long[] ts = timesteps.toType(DataType.INT64, false).toLongArray();
        float[] sa = new float[ts.length];
        float[] sb = new float[ts.length];
        for (int i = 0; i < ts.length; i++) {
            float a = alphasCumprod[(int) ts[i]];
            sa[i] = (float) Math.sqrt(a);
            sb[i] = (float) Math.sqrt(1f - a);
        }
        Shape bshape = broadcastShape(latents, ts.length);
        NDArray ca = latents.getManager().create(sa, bshape);
        NDArray cb = latents.getManager().create(sb, bshape);
        return latents.mul(ca).add(noise.mul(cb));
    }

    /** The training target of the prediction type: ε, or v = √ᾱ·ε − √(1−ᾱ)·x₀. */
    public NDArray target(NDArray latents, NDArray noise, NDArray timesteps) {
        if (!config.prediction().equals("v")) {
            return noise;
        }
        long[] ts = timesteps.toType(DataType.INT64, false).toLongArray();
        float[] sa = new float[ts.length];
        float[] sb = new float[ts.length];
        for (int i = 0; i < ts.length; i++) {
            float a = alphasCumprod[(int) ts[i]];
            sa[i] = (float) Math.sqrt(a);
            sb[i] = (float) Math.sqrt(1f - a);
        }
        Shape bshape = broadcastShape(latents, ts.length);
        return noise.mul(latents.getManager().create(sa, bshape))
                .sub(latents.mul(latents.getManager().create(sb, bshape)));
    }

    /** ε from a model output at timestep t (identity for ε-prediction; ε = √ᾱ·v + √(1−ᾱ)·x for v). */
    public NDArray toEpsilon(NDArray modelOutput, NDArray x, int t) {
        if (!config.prediction().equals("v")) {
            return modelOutput;
        }
        float a = alphasCumprod[t];
        return modelOutput.mul((float) Math.sqrt(a)).add(x.mul((float) Math.sqrt(1f - a)));
    }

    @Override
    public NDArray ddimStep(NDArray latents, NDArray predictedNoise, int t, int tNext) {
        float at = alphasCumprod[t];
        NDArray x0 = predictX0(latents, predictedNoise, at);
        if (tNext < 0) {
            return x0;
        }
        return ddimMove(x0, predictedNoise, alphasCumprod[tNext]);
    }

    /** ldm's x̂₀ = (x − √(1−ᾱ_t)·ε) / √ᾱ_t with float32 coefficients. */
    public static NDArray predictX0(NDArray x, NDArray eps, float at) {
        float sqrtOneMinus = (float) Math.sqrt(1f - at);
        float sqrtA = (float) Math.sqrt(at);
        return x.sub(eps.mul(sqrtOneMinus)).div(sqrtA);
    }

    /** ldm's x_prev = √ᾱ_prev·x̂₀ + √(1−ᾱ_prev)·ε (η = 0). */
    public static NDArray ddimMove(NDArray x0, NDArray eps, float aPrev) {
        return x0.mul((float) Math.sqrt(aPrev)).add(eps.mul((float) Math.sqrt(1f - aPrev)));
    }

    private static Shape broadcastShape(NDArray latents, int batch) {
        long[] s = new long[latents.getShape().dimension()];
        java.util.Arrays.fill(s, 1);
        s[0] = batch;
        return new Shape(s);
    }
}
