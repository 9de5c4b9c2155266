package dev.easel.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.easel.core.train.loop.DiffusionLoss;
import dev.easel.core.train.loop.ElementLoss;
import dev.easel.core.train.loop.LossOptions;
import dev.easel.core.train.loop.NoiseSchedule;
import dev.easel.core.train.loop.StepNoise;
import java.util.List;
import org.junit.jupiter.api.Test;

class DiffusionLossTest {
    private static LossOptions options(boolean v, double gamma, boolean debiased, double prior) {
        return new LossOptions(v, ElementLoss.L2, gamma, false, debiased, prior, 0, false, 0, 0, 0.3, 0, false, 0, 1000);
    }

    @Test
    void scheduleMatchesStableDiffusion() {
        try (NDManager m = TrainFixtures.RUNTIME.newManager()) {
            NoiseSchedule s = new NoiseSchedule(m, "epsilon");
            assertEquals(0.99915, s.alphaCumprod(0), 1e-9);
            // diffusers' SD1.5 scheduler: alphas_cumprod[-1] = 0.0047 (sqrt = 0.0683).
            assertEquals(0.0047, s.alphaCumprod(999), 1e-4);
            NDArray x0 = m.ones(new Shape(1, 1, 1, 1));
            NDArray eps = m.zeros(new Shape(1, 1, 1, 1));
            NDArray t = m.create(new long[] {500});
            assertEquals(Math.sqrt(s.alphaCumprod(500)), s.addNoise(x0, eps, t).getFloat(), 1e-6);
            NDArray x5 = s.addNoise(x0, m.ones(new Shape(1, 1, 1, 1)), t);
            assertEquals(1.0, s.ddimStep(x5, m.ones(new Shape(1, 1, 1, 1)), 500, -1).getFloat(), 1e-5,
                    "DDIM to x0 with the true noise recovers x0");
        }
    }

    @Test
    void minSnrDebiasedAndPriorWeights() {
        try (NDManager m = TrainFixtures.RUNTIME.newManager()) {
            NoiseSchedule s = new NoiseSchedule(m, "epsilon");
            NDArray x0 = m.zeros(new Shape(3, 1, 1, 2));
            NDArray eps = m.ones(new Shape(3, 1, 1, 2));
            NDArray pred = m.zeros(new Shape(3, 1, 1, 2));
            NDArray t = m.create(new long[] {10, 500, 900});
            List<Boolean> reg = List.of(false, false, true);
            float[] plain = DiffusionLoss.perSample(s, options(false, 0, false, 1), pred, x0, eps, t, reg)
                    .toFloatArray();
            assertArrayEquals(new float[] {1, 1, 1}, plain);
            float[] minSnr = DiffusionLoss.perSample(s, options(false, 5, false, 0.5), pred, x0, eps, t, reg)
                    .toFloatArray();
            double snr10 = s.snr(10);
            assertEquals(5 / snr10, minSnr[0], 1e-6, "high SNR is down-weighted to gamma/SNR");
            assertEquals(1.0, minSnr[2] / 0.5, 1e-6, "low SNR keeps weight 1; reg gets the prior weight");
            float[] v = DiffusionLoss.perSample(s, options(true, 5, false, 1), pred, x0, eps, t, reg).toFloatArray();
            double snr900 = s.snr(900);
            double target = s.alphaCumprod(900);
            assertEquals(target * Math.min(snr900, 5) / (snr900 + 1), v[2], 1e-6, "v target and v weighting");
            float[] debiased = DiffusionLoss.perSample(s, options(false, 0, true, 1), pred, x0, eps, t, reg)
                    .toFloatArray();
            assertEquals(1 / Math.sqrt(s.snr(500)), debiased[1], 1e-6);
        }
    }

    @Test
    void multiresNoiseHasUnitDeviationAndAdaptiveOffsetFollowsTheLatentMean() {
        LossOptions multires = new LossOptions(false, ElementLoss.L2, 0, false, false, 1, 0, false, 0, 6, 0.3, 0, false, 0,
                1000);
        StepNoise n = StepNoise.draw(7, multires, null, 2, 4, 16, 16);
        double sum = 0;
        double sq = 0;
        for (float v : n.noise()) {
            sum += v;
        }
        double mean = sum / n.noise().length;
        for (float v : n.noise()) {
            sq += (v - mean) * (v - mean);
        }
        assertEquals(1.0, Math.sqrt(sq / (n.noise().length - 1)), 1e-4);
        assertArrayEquals(n.noise(), StepNoise.draw(7, multires, null, 2, 4, 16, 16).noise());

        LossOptions adaptive = new LossOptions(false, ElementLoss.L2, 0, false, false, 1, 0.0001, false, 100, 0, 0.3, 0,
                false, 0, 1000);
        float[] latents = new float[2 * 4 * 9];
        java.util.Arrays.fill(latents, 0, 9, 5f);
        StepNoise plain = StepNoise.draw(11, new LossOptions(false, ElementLoss.L2, 0, false, false, 1, 0.0001, false, 0, 0,
                0.3, 0, false, 0, 1000), latents, 2, 4, 3, 3);
        StepNoise shifted = StepNoise.draw(11, adaptive, latents, 2, 4, 3, 3);
        double moved = Math.abs(shifted.noise()[0] - plain.noise()[0]);
        double still = Math.abs(shifted.noise()[9] - plain.noise()[9]);
        assertTrue(moved > 1e-3, "channel with mean 5 gets a large offset: " + moved);
        assertTrue(still < 1e-3, "zero-mean channel keeps the small base offset: " + still);
    }

    @Test
    void huberAndSmoothL1FollowKohyasConditionalLoss() {
        try (NDManager m = TrainFixtures.RUNTIME.newManager()) {
            NoiseSchedule s = new NoiseSchedule(m, "epsilon");
            NDArray x0 = m.zeros(new Shape(2, 1, 1, 1));
            NDArray eps = m.create(new float[] {3f, 0.01f}, new Shape(2, 1, 1, 1));
            NDArray pred = m.zeros(new Shape(2, 1, 1, 1));
            NDArray t = m.create(new long[] {999, 999});
            List<Boolean> reg = List.of(false, false);
            LossOptions constant = new LossOptions(false, new ElementLoss("huber", 0.1, "constant", 1), 0, false,
                    false, 1, 0, false, 0, 0, 0.3, 0, false, 0, 1000);
            float[] huber = DiffusionLoss.perSample(s, constant, pred, x0, eps, t, reg).toFloatArray();
            assertEquals(2 * 0.1 * (Math.sqrt(9 + 0.01) - 0.1), huber[0], 1e-5, "linear in |d| for large d");
            assertEquals(0.0001 * 0.1 / 0.1, huber[1], 1e-6, "about d^2 for small d");
            LossOptions smooth = new LossOptions(false, new ElementLoss("smooth_l1", 0.1, "constant", 1), 0, false,
                    false, 1, 0, false, 0, 0, 0.3, 0, false, 0, 1000);
            assertEquals(2 * (Math.sqrt(9 + 0.01) - 0.1),
                    DiffusionLoss.perSample(s, smooth, pred, x0, eps, t, reg).toFloatArray()[0], 1e-5);
            ElementLoss snr = new ElementLoss("huber", 0.1, "snr", 1);
            double sigma = Math.sqrt((1 - s.alphaCumprod(500)) / s.alphaCumprod(500));
            assertEquals(0.9 / ((1 + sigma) * (1 + sigma)) + 0.1, snr.threshold(500, s), 1e-12);
            assertEquals(0.1, new ElementLoss("huber", 0.1, "exponential", 1).threshold(1000, s), 1e-12);
        }
    }

    @Test
    void noiseIsAFunctionOfTheSeedAlone() {
        LossOptions o = new LossOptions(false, ElementLoss.L2, 0, false, false, 1, 0.1, false, 0, 0, 0.3, 0.1, true, 100, 200);
        StepNoise a = StepNoise.draw(42, o, null, 2, 4, 3, 3);
        StepNoise b = StepNoise.draw(42, o, null, 2, 4, 3, 3);
        assertArrayEquals(a.noise(), b.noise());
        assertArrayEquals(a.timesteps(), b.timesteps());
        assertArrayEquals(a.perturbation(), b.perturbation());
        for (long t : a.timesteps()) {
            assertEquals(true, t >= 100 && t < 200);
        }
        assertNotEquals(a.noise()[0], StepNoise.draw(43, o, null, 2, 4, 3, 3).noise()[0]);
    }
}
