package dev.easel.core.train.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.Map;

/**
 * Lion ("Symbolic Discovery of Optimization Algorithms"), as lion-pytorch implements it: the sign of an
 * interpolated momentum, decoupled weight decay. Use a learning rate 3-10x smaller than AdamW's.
 */
public final class Lion implements Optimizer {
    private final double beta1;
    private final double beta2;
    private final double weightDecay;
    private final NDManager manager;
    private final SlotState slots = new SlotState();

    public Lion(NDManager manager, double beta1, double beta2, double weightDecay) {
        this.manager = manager;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.weightDecay = weightDecay;
    }

    @Override
    public String name() {
        return "Lion";
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
                if (weightDecay != 0) {
                    p.muli(1 - lr * weightDecay);
                }
                NDArray update = m.mul(beta1).addi(grad.mul(1 - beta1)).sign();
                p.subi(update.muli(lr));
                m.muli(beta2).addi(grad.mul(1 - beta2));
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
