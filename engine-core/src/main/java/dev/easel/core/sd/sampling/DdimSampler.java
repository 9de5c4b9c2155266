package dev.easel.core.sd.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.easel.core.sd.schedule.NoiseSchedule;
import java.util.ArrayList;
import java.util.List;

/**
 * DDIM (η = 0) exactly as ldm's {@code DDIMSampler}: uniform timesteps {@code range(0, T, T // n) + 1} visited in
 * reverse, ᾱ_prev of the last step = ᾱ[0] (not 1), float32 coefficients. Also img2img (ldm's
 * {@code stochastic_encode} + {@code decode}) and deterministic DDIM inversion (null-text inversion's first phase).
 */
public final class DdimSampler {
    private final NoiseSchedule schedule;
    private final int[] timesteps;

    public DdimSampler(NoiseSchedule schedule, int steps) {
        this.schedule = schedule;
        this.timesteps = timesteps(schedule.trainTimesteps(), steps);
    }

    /** ldm {@code make_ddim_timesteps("uniform", steps, T)}, ascending; exactly {@code steps} of them. */
    public static int[] timesteps(int trainSteps, int steps) {
        if (steps < 1 || steps > trainSteps) {
            throw new IllegalArgumentException("DDIM steps must be between 1 and " + trainSteps + ", not " + steps);
        }
        // ldm: range(0, T, T // n) + 1. When n does not divide T that range has more than n entries and its last
        // timestep is T, out of the schedule (ldm fails there); taking the first n is diffusers' "leading" spacing
        // with steps_offset 1, which equals ldm's wherever ldm works.
        int c = trainSteps / steps;
        int[] ts = new int[steps];
        for (int i = 0; i < steps; i++) {
            ts[i] = i * c + 1;
        }
        return ts;
    }

    /** Timesteps, ascending. */
    public int[] timesteps() {
        return timesteps.clone();
    }

    private float alphaPrev(int index) {
        return index == 0 ? schedule.alphaCumprod(0) : schedule.alphaCumprod(timesteps[index - 1]);
    }

    /** Runs from {@code x} (pure noise) through all timesteps. */
    public NDArray sample(Denoiser model, NDArray x, StepListener listener) {
        return run(model, x, timesteps.length, listener);
    }

    /**
     * img2img: noises the clean latent to DDIM index {@code tEnc} and denoises from index {@code tEnc - 1}, as ldm's
     * img2img script and A1111 do; {@code tEnc = int(strength · steps)}.
     */
    public NDArray img2img(Denoiser model, NDArray cleanLatent, NDArray noise, float strength, StepListener listener) {
        int tEnc = Math.min(timesteps.length, (int) (Math.min(strength, 0.999f) * timesteps.length));
        if (tEnc < 1) {
            return cleanLatent.duplicate();
        }
        float a = tEnc < timesteps.length ? schedule.alphaCumprod(timesteps[tEnc]) : schedule.alphaCumprod(timesteps[
                timesteps.length - 1]);
        NDArray x = cleanLatent.mul((float) Math.sqrt(a)).add(noise.mul((float) Math.sqrt(1f - a)));
        return run(model, x, tEnc, listener);
    }

    private NDArray run(Denoiser model, NDArray x, int fromCount, StepListener listener) {
        NDManager outer = x.getManager();
        int step = 0;
        for (int index = fromCount - 1; index >= 0; index--, step++) {
            try (NDManager sm = outer.newSubManager()) {
                NDArray xs = x.duplicate();
                xs.attach(sm);
                int t = timesteps[index];
                NDArray out = model.predict(xs, t, step);
                NDArray eps = schedule.toEpsilon(out, xs, t);
                float at = schedule.alphaCumprod(t);
                NDArray x0 = NoiseSchedule.predictX0(xs, eps, at);
                listener.step(step, t, xs, x0);
                NDArray next = NoiseSchedule.ddimMove(x0, eps, alphaPrev(index));
                next.attach(outer);
                x = next;
            }
        }
        return x;
    }

    /**
     * DDIM inversion from a clean latent: each step evaluates the model at the next (higher) timestep on the current
     * latent and moves it there deterministically. Returns the trajectory, {@code [x_0, x_t1, ..., x_T]}.
     */
    public List<NDArray> invert(Denoiser model, NDArray cleanLatent) {
        NDManager outer = cleanLatent.getManager();
        List<NDArray> out = new ArrayList<>();
        out.add(cleanLatent);
        NDArray x = cleanLatent;
        for (int index = 0; index < timesteps.length; index++) {
            try (NDManager sm = outer.newSubManager()) {
                NDArray xs = x.duplicate();
                xs.attach(sm);
                int t = timesteps[index];
                NDArray eps = schedule.toEpsilon(model.predict(xs, t, timesteps.length - 1 - index), xs, t);
                NDArray x0 = NoiseSchedule.predictX0(xs, eps, alphaPrev(index));
                NDArray next = NoiseSchedule.ddimMove(x0, eps, schedule.alphaCumprod(t));
                next.attach(outer);
                x = next;
                out.add(x);
            }
        }
        return out;
    }
}
