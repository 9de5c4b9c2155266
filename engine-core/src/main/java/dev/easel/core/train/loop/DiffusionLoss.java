package dev.easel.core.train.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.easel.core.runtime.TorchOwned;
import java.util.List;

/**
 * The shared diffusion loss, as kohya's {@code train_network.py} computes it: MSE (or L1, Huber) of the UNet's prediction
 * against ε or v, averaged per sample, times the sample's weight (prior-loss weight for regularisation images),
 * then min-SNR-γ, v-scaling and debiased weighting, in that order.
 */
public final class DiffusionLoss {
    private DiffusionLoss() {
    }

    /**
     * Per-sample loss, {@code [batch]}.
     *
     * @param prediction   the UNet output
     * @param latents      x0
     * @param noise        ε (offset included)
     * @param timesteps    {@code [batch]}
     * @param reg          whether each element is a regularisation image
     */
    public static NDArray perSample(NoiseSchedule schedule, LossOptions o, NDArray prediction, NDArray latents,
                                    NDArray noise, NDArray timesteps, List<Boolean> reg) {
        NDArray target = o.vPrediction() ? schedule.velocity(latents, noise, timesteps) : noise;
        NDArray diff = prediction.toType(DataType.FLOAT32, false).sub(target);
        long[] t = timesteps.toType(DataType.INT64, false).toLongArray();
        NDArray elem = o.elementLoss().apply(diff, t, schedule);
        NDArray loss = elem.reshape(elem.getShape().get(0), -1).mean(new int[] {1});
        float[] w = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            double weight = reg.get(i) ? o.priorLossWeight() : 1.0;
            double snr = schedule.snr((int) t[i]);
            if (o.minSnrGamma() > 0) {
                double minSnr = Math.min(snr, o.minSnrGamma());
                weight *= o.vPrediction() ? minSnr / (snr + 1) : minSnr / snr;
            }
            double clamped = Math.min(snr, 1000);
            if (o.scaleVPredLikeNoise() && o.vPrediction()) {
                weight *= clamped / (clamped + 1);
            }
            if (o.debiased()) {
                weight *= o.vPrediction() ? 1 / (clamped + 1) : 1 / Math.sqrt(clamped);
            }
            w[i] = (float) weight;
        }
        NDManager m = loss.getManager();
        return loss.mul(TorchOwned.create(m, w, new ai.djl.ndarray.types.Shape(w.length)));
    }
}
