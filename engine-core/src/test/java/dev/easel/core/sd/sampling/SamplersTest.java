package dev.easel.core.sd.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.easel.core.sd.ParityFixtures;
import dev.easel.core.sd.model.ScheduleConfig;
import dev.easel.core.sd.schedule.NoiseSchedule;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Samplers on hand-checkable denoisers: a constant ε, and the ideal denoiser of a single data point. */
class SamplersTest {
    @Test
    void ddimTimestepsAreLdms() {
        assertArrayEquals(new int[] {1, 251, 501, 751}, DdimSampler.timesteps(1000, 4));
        assertArrayEquals(new int[] {1, 51, 101}, java.util.Arrays.copyOf(DdimSampler.timesteps(1000, 20), 3));
        assertArrayEquals(new int[] {1, 334, 667}, DdimSampler.timesteps(1000, 3));
        assertThrows(IllegalArgumentException.class, () -> DdimSampler.timesteps(1000, 0));
    }

    @Test
    void karrasAndDiscreteSigmasSpanTheModelsRange() {
        try (NDManager m = ParityFixtures.runtime().newManager()) {
            NoiseSchedule s = new NoiseSchedule(ScheduleConfig.sd("eps"), m);
            double[] k = new KDiffusionSampler(s, SamplerKind.DPMPP_2M_KARRAS, 10).sigmas();
            assertEquals(11, k.length);
            assertEquals(14.6146, k[0], 1e-3);
            assertEquals(0.0292, k[9], 1e-4);
            assertEquals(0, k[10]);
            double[] d = new KDiffusionSampler(s, SamplerKind.EULER, 10).sigmas();
            assertEquals(14.6146, d[0], 1e-3);
            assertEquals(0.0292, d[9], 1e-4);
            KDiffusionSampler e = new KDiffusionSampler(s, SamplerKind.EULER, 10);
            assertEquals(999, e.sigmaToT(d[0]), 1e-3);
            assertEquals(500, e.sigmaToT(s.sigma(500)), 1e-3);
        }
    }

    /** ε that makes x̂₀ = x0 exactly at every step, for the k-diffusion parameterisation. */
    private static Denoiser ideal(NDArray x0, KDiffusionSampler k, NoiseSchedule s) {
        return (xIn, t, step) -> {
            int lo = (int) Math.floor(t);
            int hi = (int) Math.ceil(t);
            double w = t - lo;
            double sigma = Math.exp((1 - w) * Math.log(s.sigma(lo)) + w * Math.log(s.sigma(hi)));
            NDArray x = xIn.mul((float) Math.sqrt(sigma * sigma + 1));
            return x.sub(x0).div((float) sigma);
        };
    }

    @Test
    void kSamplersConvergeToTheDataPointOfAnIdealDenoiser() {
        try (NDManager m = ParityFixtures.runtime().newManager()) {
            NoiseSchedule s = new NoiseSchedule(ScheduleConfig.sd("eps"), m);
            NDArray x0 = new NoiseSource(1).next(m, new Shape(1, 4, 4, 4)).mul(0.5f);
            NDArray noise = new NoiseSource(2).next(m, new Shape(1, 4, 4, 4));
            for (SamplerKind kind : List.of(SamplerKind.EULER, SamplerKind.EULER_A, SamplerKind.DPMPP_2M_KARRAS)) {
                KDiffusionSampler k = new KDiffusionSampler(s, kind, 8);
                NDArray out = k.sample(ideal(x0, k, s), noise, new NoiseSource(3), StepListener.NONE);
                double err = out.sub(x0).abs().max().getFloat();
                assertTrue(err < 1e-4, kind + " ends " + err + " from the data point");
                NDArray img = k.img2img(ideal(x0, k, s), x0, noise, 0.5f, new NoiseSource(3), StepListener.NONE);
                assertTrue(img.sub(x0).abs().max().getFloat() < 1e-4, kind + " img2img");
            }
        }
    }

    @Test
    void ddimWithConstantNoiseIsClosedFormAndInverts() {
        try (NDManager m = ParityFixtures.runtime().newManager()) {
            NoiseSchedule s = new NoiseSchedule(ScheduleConfig.sd("eps"), m);
            NDArray x0 = new NoiseSource(1).next(m, new Shape(1, 4, 4, 4));
            NDArray eps = new NoiseSource(2).next(m, new Shape(1, 4, 4, 4));
            Denoiser constant = (x, t, step) -> eps.duplicate();
            DdimSampler ddim = new DdimSampler(s, 10);
            float aT = s.alphaCumprod(ddim.timesteps()[9]);
            NDArray xT = x0.mul((float) Math.sqrt(aT)).add(eps.mul((float) Math.sqrt(1 - aT)));
            NDArray out = ddim.sample(constant, xT, StepListener.NONE);
            float a0 = s.alphaCumprod(0);
            NDArray expected = x0.mul((float) Math.sqrt(a0)).add(eps.mul((float) Math.sqrt(1 - a0)));
            assertTrue(out.sub(expected).abs().max().getFloat() < 1e-4);
            List<NDArray> path = ddim.invert(constant, expected);
            assertEquals(11, path.size());
            assertTrue(path.get(10).sub(xT).abs().max().getFloat() < 1e-4, "inversion returns to x_T");
            // DiffusionSchedule.ddimStep agrees with the sampler's step, and tNext < 0 gives x̂₀
            assertTrue(s.ddimStep(xT, eps, ddim.timesteps()[9], -1).sub(x0).abs().max().getFloat() < 1e-4);
            NDArray noised = s.addNoise(x0, eps, m.create(new long[] {ddim.timesteps()[9]}));
            assertTrue(noised.sub(xT).abs().max().getFloat() < 1e-6);
        }
    }
}
