package dev.easel.core.train.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import java.util.Map;

/** SGD with momentum (optionally Nesterov) and L2 weight decay, as {@code torch.optim.SGD}. */
public final class Sgd implements Optimizer {
    private final double momentum;
    private final double dampening;
    private final boolean nesterov;
    private final double weightDecay;
    private final NDManager manager;
    private final SlotState slots = new SlotState();

    public Sgd(NDManager manager, double momentum, double dampening, boolean nesterov, double weightDecay) {
        if (nesterov && (momentum <= 0 || dampening != 0)) {
            throw new IllegalArgumentException("Nesterov momentum needs momentum > 0 and no dampening");
        }
        this.manager = manager;
        this.momentum = momentum;
        this.dampening = dampening;
        this.nesterov = nesterov;
        this.weightDecay = weightDecay;
    }

    @Override
    public String name() {
        return nesterov ? "SGDNesterov" : "SGD";
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
                NDArray d = weightDecay != 0 ? grad.add(p.mul(weightDecay)) : grad;
                if (momentum != 0) {
                    boolean first = !slots.has(g, i, "momentum_buffer");
                    NDArray buf = slots.slot(g, i, "momentum_buffer", p);
                    if (first) {
                        buf.addi(d);
                    } else {
                        buf.muli(momentum).addi(d.mul(1 - dampening));
                    }
                    d = nesterov ? d.add(buf.mul(momentum)) : buf;
                }
                p.subi(d.mul(lr));
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
