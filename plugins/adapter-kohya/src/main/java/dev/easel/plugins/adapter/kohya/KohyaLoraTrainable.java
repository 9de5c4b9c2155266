package dev.easel.plugins.adapter.kohya;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import dev.easel.api.ParameterValues;
import dev.easel.api.adapter.TrainableAdapter;
import dev.easel.api.model.BaseModule;
import dev.easel.api.model.ModuleKind;
import dev.easel.api.model.NetworkModule;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * kohya's {@code LoRAModule.forward}: {@code y = base(x) + up(drop(down(x))) · m · s'} with the network dropout on
 * the rank activations (not on x, unlike PEFT), the per-sample rank mask rescaled by {@code 1/(1-p)}, and module
 * dropout skipping the adapter for a whole step. Linear targets get Linear factors, conv targets a down conv with
 * the base's kernel, stride and padding and a 1x1 up conv. Initialisation as kohya: down kaiming-uniform(a=√5),
 * up zeros, so the untrained adapter changes nothing.
 */
final class KohyaLoraTrainable implements TrainableAdapter {
    private final NetworkModule target;
    private final NDManager manager;
    private final NDArray down;
    private final NDArray up;
    private final float alpha;
    private final int rank;
    private final float dropout;
    private final float rankDropout;
    private final float moduleDropout;

    KohyaLoraTrainable(NetworkModule target, ParameterValues parameters, NDManager manager, long seed) {
        this.target = target;
        this.manager = manager;
        this.rank = parameters.getInt("network_dim");
        double a = parameters.getDouble("network_alpha");
        this.alpha = (float) (a == 0.0 ? rank : a);
        this.dropout = (float) parameters.getDouble("network_dropout");
        this.rankDropout = (float) parameters.getDouble("rank_dropout");
        this.moduleDropout = (float) parameters.getDouble("module_dropout");
        Random random = new Random(seed);
        long[] w = target.weightShape();
        long out = w[0];
        long fanIn = 1;
        for (int i = 1; i < w.length; i++) {
            fanIn *= w[i];
        }
        Shape downShape;
        Shape upShape;
        if (target.kind() == ModuleKind.CONV2D) {
            downShape = new Shape(rank, w[1], w[2], w[3]);
            upShape = new Shape(out, rank, 1, 1);
        } else if (target.kind() == ModuleKind.LINEAR) {
            downShape = new Shape(rank, w[1]);
            upShape = new Shape(out, rank);
        } else {
            throw new IllegalArgumentException("lora/kohya adapts Linear and Conv2d modules, not " + target.kind()
                    + " (" + target.ldmName() + ")");
        }
        // kaiming_uniform(a=sqrt(5)): bound = gain * sqrt(3 / fan_in) with gain = sqrt(2 / (1 + 5)).
        double bound = 1.0 / Math.sqrt(fanIn);
        float[] init = new float[Math.toIntExact(downShape.size())];
        for (int i = 0; i < init.length; i++) {
            init[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
        }
        this.down = manager.create(init, downShape);
        this.up = manager.zeros(upShape, DataType.FLOAT32);
    }

    @Override
    public Map<String, NDArray> trainableTensors() {
        Map<String, NDArray> m = new LinkedHashMap<>();
        m.put("lora_down.weight", down);
        m.put("lora_up.weight", up);
        return m;
    }

    @Override
    public NDArray forward(NDArray x, BaseModule base, boolean training) {
        NDArray y = base.forward(x);
        // Dropout masks come from DJL's generator, which the training loop reseeds from the step's seed: a resumed
        // run draws what the uninterrupted one drew (a generator of our own would depend on the steps before).
        NDManager step = x.getManager();
        if (training && moduleDropout > 0
                && step.randomUniform(0f, 1f, new Shape(1), DataType.FLOAT32).getFloat(0) < moduleDropout) {
            return y;
        }
        boolean conv = target.kind() == ModuleKind.CONV2D;
        NDArray h;
        if (conv) {
            int s = target.stride();
            int p = target.padding();
            h = Conv2d.conv2d(x, down, null, new Shape(s, s), new Shape(p, p), new Shape(1, 1)).singletonOrThrow();
        } else {
            h = Linear.linear(x, down).singletonOrThrow();
        }
        if (training && dropout > 0) {
            h = Dropout.dropout(h, dropout, true).singletonOrThrow();
        }
        float scale = alpha / rank;
        if (training && rankDropout > 0) {
            long batch = h.getShape().get(0);
            Shape maskShape;
            if (conv) {
                maskShape = new Shape(batch, rank, 1, 1);
            } else {
                long[] dims = new long[h.getShape().dimension()];
                java.util.Arrays.fill(dims, 1);
                dims[0] = batch;
                dims[dims.length - 1] = rank;
                maskShape = new Shape(dims);
            }
            NDArray mask = step.randomUniform(0f, 1f, maskShape, DataType.FLOAT32).gt(rankDropout)
                    .toType(h.getDataType(), false);
            h = h.mul(mask);
            scale = scale / (1 - rankDropout);
        }
        NDArray d = conv ? Conv2d.conv2d(h, up).singletonOrThrow() : Linear.linear(h, up).singletonOrThrow();
        // A tensor from full(), not d.mul(float): DJL wraps the scalar of mul(Number) around a Java buffer it frees
        // right away, while autograd keeps that scalar for the backward pass (a NaN gradient once the GC runs).
        return y.add(d.mul(step.full(new Shape(), scale, d.getDataType())));
    }

    @Override
    public Map<String, NDArray> export() {
        Map<String, NDArray> m = trainableTensors();
        m.put("alpha", manager.create(alpha));
        return m;
    }
}
