package dev.easel.core.train.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.easel.core.runtime.TorchOwned;

/**
 * The per-element loss of prediction against target, as kohya's {@code conditional_loss}: {@code l2},
 * {@code l1} (Easel), {@code huber} {@code 2c(sqrt(d²+c²) − c)} and {@code smooth_l1} {@code 2(sqrt(d²+c²) − c)},
 * with the Huber threshold {@code c} per sample from {@code huber_schedule}: {@code constant} {@code c0·scale},
 * {@code exponential} {@code exp(−t·ln(1/c0)/1000)·scale}, {@code snr} {@code (1 − c0)/(1 + σ_t)² + c0}.
 *
 * @param type     l2, l1, huber or smooth_l1
 * @param c        kohya's {@code huber_c}
 * @param schedule kohya's {@code huber_schedule}
 * @param scale    kohya's {@code huber_scale}
 */
public record ElementLoss(String type, double c, String schedule, double scale) {
    /** Mean squared error. */
    public static final ElementLoss L2 = new ElementLoss("l2", 0.1, "snr", 1);

    /** The loss of each element of {@code diff = prediction − target}, {@code [batch, ...]}. */
    NDArray apply(NDArray diff, long[] timesteps, NoiseSchedule schedule) {
        switch (type) {
            case "l2":
                return diff.square();
            case "l1":
                return diff.abs();
            case "huber":
            case "smooth_l1":
                break;
            default:
                throw new IllegalArgumentException("unknown loss_type '" + type + "'");
        }
        float[] cs = new float[timesteps.length];
        for (int i = 0; i < cs.length; i++) {
            cs[i] = (float) threshold((int) timesteps[i], schedule);
        }
        NDManager m = diff.getManager();
        long[] shape = new long[diff.getShape().dimension()];
        java.util.Arrays.fill(shape, 1);
        shape[0] = cs.length;
        NDArray c = TorchOwned.create(m, cs, new Shape(shape));
        NDArray root = diff.square().add(c.square()).sqrt().sub(c);
        return TorchOwned.mul(type.equals("huber") ? root.mul(c) : root, 2);
    }

    /** The threshold of one timestep. */
    public double threshold(int t, NoiseSchedule noise) {
        return switch (schedule) {
            case "constant" -> c * scale;
            case "exponential" -> Math.exp(-(-Math.log(c) / NoiseSchedule.STEPS) * t) * scale;
            case "snr" -> {
                double a = noise.alphaCumprod(t);
                double sigma = Math.sqrt((1 - a) / a);
                yield (1 - c) / ((1 + sigma) * (1 + sigma)) + c;
            }
            default -> throw new IllegalArgumentException("unknown huber_schedule '" + schedule + "'");
        };
    }
}
