package dev.easel.core.sd.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.easel.core.sd.schedule.NoiseSchedule;

/**
 * k-diffusion's samplers over the model's discrete schedule, as AUTOMATIC1111 runs them ({@code CompVisDenoiser} /
 * {@code CompVisVDenoiser}): σ_t = √((1−ᾱ)/ᾱ), the UNet called at the (fractional) timestep interpolated in log σ, on
 * {@code x / √(σ² + 1)}. Euler and Euler ancestral use {@code get_sigmas(n)} (timesteps linspace(T−1, 0, n)); DPM++ 2M
 * Karras uses Karras' ρ = 7 schedule between the model's σ_min and σ_max.
 */
public final class KDiffusionSampler {
    private final NoiseSchedule schedule;
    private final SamplerKind kind;
    private final double[] logSigmas;
    private final double[] sigmas;

    public KDiffusionSampler(NoiseSchedule schedule, SamplerKind kind, int steps) {
        if (kind == SamplerKind.DDIM) {
            throw new IllegalArgumentException("DDIM is not a k-diffusion sampler");
        }
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1");
        }
        this.schedule = schedule;
        this.kind = kind;
        int n = schedule.trainTimesteps();
        logSigmas = new double[n];
        for (int i = 0; i < n; i++) {
            // k-diffusion computes the sigmas from the float32 ᾱ in float32
            float a = schedule.alphaCumprod(i);
            logSigmas[i] = Math.log((float) Math.sqrt((1f - a) / a));
        }
        sigmas = kind == SamplerKind.DPMPP_2M_KARRAS ? karras(steps) : discrete(steps);
    }

    /** σ schedule, decreasing, ending with 0 ({@code steps + 1} values). */
    public double[] sigmas() {
        return sigmas.clone();
    }

    private double[] discrete(int steps) {
        double[] s = new double[steps + 1];
        double tMax = logSigmas.length - 1;
        for (int i = 0; i < steps; i++) {
            double t = steps == 1 ? tMax : tMax - tMax * i / (steps - 1);
            s[i] = tToSigma(t);
        }
        return s;
    }

    private double[] karras(int steps) {
        double sigmaMin = Math.exp(logSigmas[0]);
        double sigmaMax = Math.exp(logSigmas[logSigmas.length - 1]);
        double rho = 7;
        double minInv = Math.pow(sigmaMin, 1 / rho);
        double maxInv = Math.pow(sigmaMax, 1 / rho);
        double[] s = new double[steps + 1];
        for (int i = 0; i < steps; i++) {
            double ramp = steps == 1 ? 0 : (double) i / (steps - 1);
            s[i] = Math.pow(maxInv + ramp * (minInv - maxInv), rho);
        }
        return s;
    }

    private double tToSigma(double t) {
        int low = (int) Math.floor(t);
        int high = (int) Math.ceil(t);
        double w = t - low;
        return Math.exp((1 - w) * logSigmas[low] + w * logSigmas[high]);
    }

    /** k-diffusion {@code sigma_to_t}: the fractional timestep of σ, interpolated in log σ. */
    public double sigmaToT(double sigma) {
        double ls = Math.log(sigma);
        int lowIdx = 0;
        for (int i = 0; i < logSigmas.length; i++) {
            if (ls - logSigmas[i] >= 0) {
                lowIdx = i;
            }
        }
        lowIdx = Math.min(lowIdx, logSigmas.length - 2);
        int highIdx = lowIdx + 1;
        double low = logSigmas[lowIdx];
        double high = logSigmas[highIdx];
        double w = Math.max(0, Math.min(1, (low - ls) / (low - high)));
        return (1 - w) * lowIdx + w * highIdx;
    }

    /** The denoised estimate x̂₀ at σ (ε and v parameterisations). */
    private NDArray denoised(Denoiser model, NDArray x, double sigma, int step) {
        float cIn = (float) (1 / Math.sqrt(sigma * sigma + 1));
        NDArray out = model.predict(x.mul(cIn), (float) sigmaToT(sigma), step);
        if (schedule.predictionType().equals("v_prediction")) {
            float cSkip = (float) (1 / (sigma * sigma + 1));
            float cOut = (float) (-sigma / Math.sqrt(sigma * sigma + 1));
            return out.mul(cOut).add(x.mul(cSkip));
        }
        return x.sub(out.mul((float) sigma));
    }

    /** txt2img from unit-variance {@code noise} (scaled by σ_max here). */
    public NDArray sample(Denoiser model, NDArray noise, NoiseSource ancestral, StepListener listener) {
        return run(model, noise.mul((float) sigmas[0]), sigmas, ancestral, listener);
    }

    /** img2img: A1111's {@code sigmas[steps − t_enc − 1:]} with t_enc = int(strength · steps). */
    public NDArray img2img(Denoiser model, NDArray cleanLatent, NDArray noise, float strength, NoiseSource ancestral,
                           StepListener listener) {
        int steps = sigmas.length - 1;
        int tEnc = (int) (Math.min(strength, 0.999f) * steps);
        if (tEnc < 1) {
            return cleanLatent.duplicate();
        }
        double[] tail = java.util.Arrays.copyOfRange(sigmas, steps - tEnc - 1, sigmas.length);
        return run(model, cleanLatent.add(noise.mul((float) tail[0])), tail, ancestral, listener);
    }

    private NDArray run(Denoiser model, NDArray x, double[] s, NoiseSource ancestral, StepListener listener) {
        NDManager outer = x.getManager();
        NDArray oldDenoised = null;
        for (int i = 0; i + 1 < s.length; i++) {
            try (NDManager sm = outer.newSubManager()) {
                NDArray xs = x.duplicate();
                xs.attach(sm);
                double sigma = s[i];
                double next = s[i + 1];
                NDArray den = denoised(model, xs, sigma, i);
                listener.step(i, (float) sigmaToT(sigma), xs, den);
                NDArray xn;
                switch (kind) {
                    case EULER -> {
                        NDArray d = xs.sub(den).div((float) sigma);
                        xn = xs.add(d.mul((float) (next - sigma)));
                    }
                    case EULER_A -> {
                        double up = Math.min(next, Math.sqrt(next * next * (sigma * sigma - next * next)
                                / (sigma * sigma)));
                        double down = Math.sqrt(next * next - up * up);
                        NDArray d = xs.sub(den).div((float) sigma);
                        xn = xs.add(d.mul((float) (down - sigma)));
                        if (next > 0) {
                            xn = xn.add(ancestral.next(sm, xs.getShape()).mul((float) up));
                        }
                    }
                    case DPMPP_2M_KARRAS -> {
                        double t = -Math.log(sigma);
                        double tNext = next == 0 ? Double.POSITIVE_INFINITY : -Math.log(next);
                        double h = tNext - t;
                        float ratio = (float) (next / sigma);
                        float coeff = (float) -Math.expm1(-h);
                        if (oldDenoised == null || next == 0) {
                            xn = xs.mul(ratio).sub(den.mul(-coeff));
                        } else {
                            double hLast = t - (-Math.log(s[i - 1]));
                            double r = hLast / h;
                            NDArray od = oldDenoised.duplicate();
                            od.attach(sm);
                            NDArray dd = den.mul((float) (1 + 1 / (2 * r))).sub(od.mul((float) (1 / (2 * r))));
                            xn = xs.mul(ratio).sub(dd.mul(-coeff));
                        }
                    }
                    default -> throw new IllegalStateException(kind.toString());
                }
                xn.attach(outer);
                if (oldDenoised != null) {
                    oldDenoised.close();
                }
                den.attach(outer);
                oldDenoised = den;
                x = xn;
            }
        }
        if (oldDenoised != null) {
            oldDenoised.close();
        }
        return x;
    }
}
