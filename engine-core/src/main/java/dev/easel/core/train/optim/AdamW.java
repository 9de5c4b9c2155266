package dev.easel.core.train.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.HashMap;
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
    private final Map<String, Long> steps = new HashMap<>();

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
        // The same arithmetic as torch.optim.AdamW, with the scalars made once per step (a LoRA has hundreds of
        // small tensors: a Java number per operation would allocate a native scalar each time) and the step count
        // kept in Java as well as in its state tensor (no read-back per tensor).
        try (NDScope scope = new NDScope()) {
            Scalars c = new Scalars();
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
                    String key = SlotState.key(g, i, "step");
                    NDArray t = slots.slot(g, i, "step", c.get(p, 0));
                    long step = steps.computeIfAbsent(key, k -> (long) t.getFloat()) + 1;
                    steps.put(key, step);
                    t.addi(c.get(t, 1));
                    if (weightDecay != 0) {
                        p.muli(c.get(p, 1 - lr * weightDecay));
                    }
                    m.muli(c.get(m, beta1)).addi(grad.mul(c.get(grad, 1 - beta1)));
                    v.muli(c.get(v, beta2)).addi(grad.square().muli(c.get(grad, 1 - beta2)));
                    double bias1 = 1 - Math.pow(beta1, step);
                    double bias2 = 1 - Math.pow(beta2, step);
                    NDArray denom = v.sqrt().divi(c.get(v, Math.sqrt(bias2))).addi(c.get(v, eps));
                    p.subi(m.div(denom).muli(c.get(p, lr / bias1)));
                }
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
        steps.clear();
    }
}
