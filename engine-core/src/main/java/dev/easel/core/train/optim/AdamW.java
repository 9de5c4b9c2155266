package dev.easel.core.train.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.Map;

/** AdamW as {@code torch.optim.AdamW}: decoupled weight decay, bias-corrected moments. */
public final class AdamW implements Optimizer {
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final NDManager manager;
    private final SlotState slots = new SlotState();

    public AdamW(NDManager manager, double beta1, double beta2, double eps, double weightDecay) {
        this.manager = manager;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    @Override
    public String name() {
        return "AdamW";
    }

    @Override
    public void step(List<List<NDArray>> groups, double[] learningRates) {
        for (int g = 0; g < groups.size(); g++) {
            double lr = learningRates[g];
            List<NDArray> params = groups.get(g);
            for (int i = 0; i < params.size(); i++) {
                NDArray p = params.get(i);
                NDArray grad = Gradients.of(p);
                if (grad == null) {
                    continue;
                }
                NDArray m = slots.slot(g, i, "exp_avg", p);
                NDArray v = slots.slot(g, i, "exp_avg_sq", p);
                NDArray t = slots.slot(g, i, "step", manager.create(0f));
                t.addi(1);
                double step = t.getFloat();
                if (weightDecay != 0) {
                    p.muli(1 - lr * weightDecay);
                }
                m.muli(beta1).addi(grad.mul(1 - beta1));
                v.muli(beta2).addi(grad.square().muli(1 - beta2));
                double bias1 = 1 - Math.pow(beta1, step);
                double bias2 = 1 - Math.pow(beta2, step);
                NDArray denom = v.sqrt().divi(Math.sqrt(bias2)).addi(eps);
                p.subi(m.div(denom).muli(lr / bias1));
            }
        }
    }

    @Override
    public Map<String, NDArray> state() {
        return slots.snapshot();
    }

    @Override
    public void restore(Map<String, NDArray> state) {
        slots.restore(state, manager);
    }
}
