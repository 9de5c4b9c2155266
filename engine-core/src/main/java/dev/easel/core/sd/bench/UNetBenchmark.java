package dev.easel.core.sd.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.easel.api.model.ModuleKind;
import dev.easel.core.runtime.ComputeRuntime;
import dev.easel.core.sd.model.RandomWeights;
import dev.easel.core.sd.model.UNetConfig;
import dev.easel.core.sd.nn.Layer;
import dev.easel.core.sd.nn.NetworkState;
import dev.easel.core.sd.nn.Ops;
import dev.easel.core.sd.sampling.NoiseSource;
import dev.easel.core.sd.unet.UNet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Forward + backward of the UNet at a medium config on the CPU (every parameter trainable, as in a full fine-tune):
 * achieved GFLOP/s against libtorch's float32 matmul rate measured in the same process, and the share of time spent
 * outside libtorch (the Java and JNI cost of each op the forward issues; backward runs inside libtorch's autograd).
 *
 * <p>Arguments (all optional): {@code channels=128 size=32 batch=2 iters=5}.
 */
public final class UNetBenchmark {
    private UNetBenchmark() {
    }

    public static void main(String[] args) {
        int channels = 128;
        int size = 32;
        int batch = 2;
        int iters = 5;
        for (String a : args) {
            String[] kv = a.split("=", 2);
            int v = Integer.parseInt(kv[1]);
            switch (kv[0]) {
                case "channels" -> channels = v;
                case "size" -> size = v;
                case "batch" -> batch = v;
                case "iters" -> iters = v;
                default -> throw new IllegalArgumentException("unknown argument " + kv[0]);
            }
        }
        ComputeRuntime runtime = new ComputeRuntime().start();
        UNetConfig config = new UNetConfig(4, 4, channels, List.of(1, 2, 4), 1, List.of(2, 4), 8, -1, 768,
                List.of(1, 1, 1), false);
        try (NDManager root = runtime.newManager()) {
            NetworkState state = new NetworkState();
            UNet unet = new UNet(config, new RandomWeights(1, root), state);
            long params = 0;
            for (Layer l : unet.layers()) {
                params += Arrays.stream(l.weightShape()).reduce(1, Math::multiplyExact) + (l.hasBias()
                        ? l.weightShape()[0] : 0);
                l.trainable();
            }
            Shape xs = new Shape(batch, 4, size, size);
            NDArray x = new NoiseSource(1).next(root, xs);
            NDArray ctx = new NoiseSource(2).next(root, new Shape(batch, 77, 768));
            NDArray t = root.create(new long[batch]).add(500);

            double fwdFlops = countForwardFlops(unet, x, t, ctx, root) + attentionFlops(config, size, batch);
            double stepFlops = 3 * fwdFlops; // backward: gradients for inputs and weights, about 2x forward

            int ops;
            Ops.setBlockScoping(false);
            try (NDManager m = root.newSubManager()) {
                NDArray xi = x.duplicate();
                xi.attach(m);
                unet.forward(xi, t, ctx);
                ops = m.getManagedArrays().size();
            } finally {
                Ops.setBlockScoping(true);
            }
            // warm-up (allocator, thread pool, lazy init)
            step(unet, x, t, ctx, root);
            matmulRate(root, 1);
            // Rounds interleave a matmul burst and a UNet step, so both see the same machine load; the best of
            // each estimates the unloaded machine (the CPUs are shared).
            long[] times = new long[iters];
            double[] matmuls = new double[iters];
            for (int i = 0; i < iters; i++) {
                matmuls[i] = matmulRate(root, 3);
                times[i] = step(unet, x, t, ctx, root);
            }
            long[] sorted = times.clone();
            Arrays.sort(sorted);
            double stepSeconds = sorted[0] / 1e9;
            double medianSeconds = sorted[iters / 2] / 1e9;
            double perOpNanos = perOpOverhead(root);
            double matmul = Arrays.stream(matmuls).max().orElseThrow();
            double achieved = stepFlops / stepSeconds / 1e9;
            double outside = ops * perOpNanos / 1e9 / stepSeconds;
            double[] ratios = new double[iters];
            for (int i = 0; i < iters; i++) {
                ratios[i] = stepFlops / (times[i] / 1e9) / 1e9 / matmuls[i];
            }
            Arrays.sort(ratios);
            System.out.printf(Locale.ROOT, "UNet: model_channels %d, channel_mult [1,2,4], 1 res block/level, attention at "
                    + "1/2 and 1/4, context 768; %,d parameters (all trainable)%n", channels, params);
            System.out.printf(Locale.ROOT, "input: batch %d, latent %dx%d; threads: %d%n", batch, size, size,
                    Runtime.getRuntime().availableProcessors());
            System.out.printf(Locale.ROOT, "forward FLOPs %.2f G; forward+backward %.2f G%n", fwdFlops / 1e9,
                    stepFlops / 1e9);
            System.out.printf(Locale.ROOT, "forward+backward: best %.3f s, median %.3f s of %d%n", stepSeconds,
                    medianSeconds, iters);
            System.out.printf(Locale.ROOT, "achieved (best step): %.1f GFLOP/s; libtorch float32 matmul 2048^3 (best "
                    + "burst): %.1f GFLOP/s -> %.0f%% of matmul rate (per-round ratio median %.0f%%)%n", achieved,
                    matmul, 100 * achieved / matmul, 100 * ratios[iters / 2]);
            System.out.printf(Locale.ROOT, "ops issued from Java per forward: %d; fixed cost per op (Java + JNI + "
                    + "dispatch, 1-element add): %.1f us -> %.2f%% of the step outside libtorch compute%n", ops,
                    perOpNanos / 1e3, 100 * outside);
        }
    }

    private static long step(UNet unet, NDArray x, NDArray t, NDArray ctx, NDManager root) {
        long t0 = System.nanoTime();
        try (NDManager m = root.newSubManager();
             GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            NDArray xi = x.duplicate();
            xi.attach(m);
            NDArray loss = unet.forward(xi, t, ctx).square().mean();
            gc.backward(loss);
            loss.getFloat();
        }
        return System.nanoTime() - t0;
    }

    /** FLOPs of every linear and conv of one forward, from the shapes each sees (2 per multiply-add). */
    private static double countForwardFlops(UNet unet, NDArray x, NDArray t, NDArray ctx, NDManager root) {
        AtomicLong flops = new AtomicLong();
        List<Layer> wrapped = new ArrayList<>();
        for (Layer l : unet.layers()) {
            if (l.kind() == ModuleKind.LINEAR || l.kind() == ModuleKind.CONV2D) {
                long[] w = l.weightShape();
                long macPerOut = 1;
                for (int i = 1; i < w.length; i++) {
                    macPerOut *= w[i];
                }
                long mac = macPerOut;
                l.wrap((in, base, training) -> {
                    NDArray out = base.forward(in);
                    flops.addAndGet(2 * mac * out.getShape().size());
                    return out;
                });
                wrapped.add(l);
            }
        }
        try (NDManager m = root.newSubManager()) {
            NDArray xi = x.duplicate();
            xi.attach(m);
            unet.forward(xi, t, ctx);
        } finally {
            wrapped.forEach(l -> l.wrap(null));
        }
        return flops.get();
    }

    /** QKᵀ and PV of every self- and cross-attention. */
    private static double attentionFlops(UNetConfig c, int size, int batch) {
        double total = 0;
        int levels = c.channelMult().size();
        int ds = 1;
        for (int level = 0; level < levels; level++) {
            long ch = (long) c.modelChannels() * c.channelMult().get(level);
            long n = (long) (size / ds) * (size / ds);
            if (c.attentionResolutions().contains(ds)) {
                // num_res_blocks transformers going down, num_res_blocks + 1 coming up
                int count = c.numResBlocks() + c.numResBlocks() + 1;
                total += count * (4.0 * n * n * ch + 4.0 * n * 77 * ch);
            }
            if (level == levels - 1) {
                total += 4.0 * n * n * ch + 4.0 * n * 77 * ch; // middle
            }
            if (level != levels - 1) {
                ds *= 2;
            }
        }
        return total * batch;
    }

    private static double perOpOverhead(NDManager root) {
        try (NDManager m = root.newSubManager()) {
            NDArray a = m.create(new float[] {1f});
            NDArray b = m.create(new float[] {2f});
            for (int i = 0; i < 2000; i++) {
                try (NDManager s = m.newSubManager()) {
                    a.tempAttach(s);
                    a.add(b);
                }
            }
            int n = 20000;
            long t0 = System.nanoTime();
            for (int i = 0; i < n / 1000; i++) {
                try (NDManager s = m.newSubManager()) {
                    NDArray bb = b.duplicate();
                    bb.attach(s);
                    for (int j = 0; j < 1000; j++) {
                        bb.add(a);
                    }
                }
            }
            return (System.nanoTime() - t0) / (double) n;
        }
    }

    private static double matmulRate(NDManager root, int reps) {
        int n = 2048;
        try (NDManager m = root.newSubManager()) {
            NDArray a = new NoiseSource(3).next(m, new Shape(n, n));
            NDArray b = new NoiseSource(4).next(m, new Shape(n, n));
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                a.matMul(b).getFloat(0, 0);
            }
            double s = (System.nanoTime() - t0) / 1e9;
            return 2.0 * n * n * n * reps / s / 1e9;
        }
    }
}
