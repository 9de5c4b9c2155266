package dev.easel.core.train.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Prodigy ("Prodigy: An Expeditiously Adaptive Parameter-Free Learner", prodigyopt 1.0): Adam whose step size
 * {@code d} is estimated from the distance travelled, so the learning rate is a multiplier (1.0 as kohya users set
 * it). One {@code d} for the whole job; groups must share one rate (or have rate 0, which freezes them), as in the
 * reference.
 */
public final class Prodigy implements Optimizer {
    private final double beta1;
    private final double beta2;
    private final double beta3;
    private final double eps;
    private final double weightDecay;
    private final boolean decouple;
    private final boolean biasCorrection;
    private final boolean safeguardWarmup;
    private final double d0;
    private final double dCoef;
    private final double growthRate;
    private final NDManager manager;
    private final SlotState slots = new SlotState();
    private double d;
    private double dMax;
    private double dNumerator;
    private long k;

    public Prodigy(NDManager manager, double beta1, double beta2, Double beta3, double eps, double weightDecay,
                   boolean decouple, boolean biasCorrection, boolean safeguardWarmup, double d0, double dCoef,
                   double growthRate) {
        this.manager = manager;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.beta3 = beta3 == null ? Math.sqrt(beta2) : beta3;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.decouple = decouple;
        this.biasCorrection = biasCorrection;
        this.safeguardWarmup = safeguardWarmup;
        this.d0 = d0;
        this.dCoef = dCoef;
        this.growthRate = growthRate;
        this.d = d0;
        this.dMax = d0;
    }

    @Override
    public String name() {
        return "Prodigy";
    }

    @Override
    public void step(List<List<NDArray>> groups, double[] learningRates) {
        double lr = 0;
        for (double r : learningRates) {
            if (r != 0 && lr != 0 && r != lr) {
                throw new IllegalArgumentException("Prodigy needs one learning rate for every group (or 0), not "
                        + java.util.Arrays.toString(learningRates));
            }
            lr = Math.max(lr, r);
        }
        double bias = biasCorrection ? Math.sqrt(1 - Math.pow(beta2, k + 1)) / (1 - Math.pow(beta1, k + 1)) : 1;
        double dlr = d * lr * bias;
        double numerator = dNumerator * beta3;
        double denom = 0;
        for (int g = 0; g < groups.size(); g++) {
            if (learningRates[g] == 0) {
                continue;
            }
            List<NDArray> params = groups.get(g);
            for (int i = 0; i < params.size(); i++) {
                NDArray p = params.get(i);
                NDArray grad = Gradients.of(p);
                if (grad == null) {
                    continue;
                }
                boolean fresh = !slots.has(g, i, "p0");
                NDArray p0 = slots.slot(g, i, "p0", p);
                if (fresh) {
                    p0.addi(p);
                }
                NDArray s = slots.slot(g, i, "s", p);
                NDArray m = slots.slot(g, i, "exp_avg", p);
                NDArray v = slots.slot(g, i, "exp_avg_sq", p);
                numerator += (d / d0) * dlr * grad.mul(p0.sub(p)).sum().getFloat();
                m.muli(beta1).addi(grad.mul(d * (1 - beta1)));
                v.muli(beta2).addi(grad.square().muli(d * d * (1 - beta2)));
                s.muli(beta3).addi(grad.mul(safeguardWarmup ? (d / d0) * d : (d / d0) * dlr));
                denom += s.abs().sum().getFloat();
            }
        }
        if (denom == 0) {
            return;
        }
        if (lr > 0) {
            double dHat = dCoef * numerator / denom;
            if (d == d0) {
                d = Math.max(d, dHat);
            }
            dMax = Math.max(dMax, dHat);
            d = Math.min(dMax, d * growthRate);
        }
        dNumerator = numerator;
        k++;
        for (int g = 0; g < groups.size(); g++) {
            if (learningRates[g] == 0) {
                continue;
            }
            List<NDArray> params = groups.get(g);
            for (int i = 0; i < params.size(); i++) {
                NDArray p = params.get(i);
                if (Gradients.of(p) == null || !slots.has(g, i, "exp_avg")) {
                    continue;
                }
                NDArray m = slots.slot(g, i, "exp_avg", p);
                NDArray v = slots.slot(g, i, "exp_avg_sq", p);
                NDArray den = v.sqrt().addi(d * eps);
                if (decouple && weightDecay != 0) {
                    p.subi(p.mul(weightDecay * dlr));
                }
                p.subi(m.div(den).muli(dlr));
            }
        }
    }

    /** The current step-size estimate {@code d}. */
    public double d() {
        return d;
    }

    @Override
    public Map<String, NDArray> state() {
        Map<String, NDArray> out = new LinkedHashMap<>(slots.snapshot());
        NDArray scalars = manager.create(new double[] {d, dMax, dNumerator, k});
        NDScope.unregister(scalars);
        out.put("prodigy.scalars", scalars);
        return out;
    }

    @Override
    public void restore(Map<String, NDArray> state) {
        Map<String, NDArray> copy = new LinkedHashMap<>(state);
        NDArray scalars = copy.remove("prodigy.scalars");
        if (scalars == null || scalars.getDataType() != DataType.FLOAT64) {
            throw new IllegalArgumentException("optimizer state has no float64 prodigy.scalars");
        }
        double[] s = scalars.toDoubleArray();
        d = s[0];
        dMax = s[1];
        dNumerator = s[2];
        k = (long) s[3];
        slots.restore(copy, manager);
    }
}
