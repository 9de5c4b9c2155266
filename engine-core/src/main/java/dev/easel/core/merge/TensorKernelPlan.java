package dev.easel.core.merge;

import dev.easel.api.merge.TensorKernel;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorSink;
import dev.easel.api.tensor.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The whole-tensor fast path of one key: one method whose inputs are model tensors (F16, BF16 or F32), with a
 * pure-Java {@link TensorKernel}. Each input is decoded from its (memory-mapped) bytes straight into a float array,
 * the kernel runs, and the result is encoded chunk by chunk into the {@link WriteBehind} buffers. A key is then held
 * once, as float32 in Java, instead of as libtorch arrays plus the method's Java copies.
 */
final class TensorKernelPlan {
    private final TensorKernel kernel;
    private final List<KeyPlan.Read> reads;
    private final long seed;

    private TensorKernelPlan(TensorKernel kernel, List<KeyPlan.Read> reads, long seed) {
        this.kernel = kernel;
        this.reads = reads;
        this.seed = seed;
    }

    /** The kernels of each merge, by block. */
    static final class Cache {
        private final Map<CompiledMerge, Map<String, Optional<TensorKernel>>> cache = new ConcurrentHashMap<>();

        Optional<TensorKernel> kernel(CompiledMerge merge, String block) {
            return cache.computeIfAbsent(merge, m -> new ConcurrentHashMap<>()).computeIfAbsent(block,
                    b -> merge.algorithm().tensorKernel(merge.parametersFor(b)));
        }
    }

    /** The plan of a task, or empty when the task is not one kernel method over model tensors. */
    static Optional<TensorKernelPlan> of(KeyTask task, Cache kernels, long userSeed) {
        if (!(task.plan() instanceof KeyPlan.Apply apply) || apply.inpaintSlice()
                || !FloatCodec.supports(task.output().dtype()) || task.output().elementCount() > Integer.MAX_VALUE) {
            return Optional.empty();
        }
        List<KeyPlan.Read> reads = new ArrayList<>();
        for (KeyPlan in : apply.inputs()) {
            if (!(in instanceof KeyPlan.Read r) || !FloatCodec.supports(r.dtype())) {
                return Optional.empty();
            }
            reads.add(r);
        }
        return kernels.kernel(apply.merge(), task.block()).map(k -> new TensorKernelPlan(k, List.copyOf(reads),
                KeySeeds.seed(userSeed + apply.merge().index, task.output().name())));
    }

    /** Working bytes: every input and the result as float32. */
    static long estimate(KeyTask task) {
        int inputs = ((KeyPlan.Apply) task.plan()).inputs().size();
        return task.output().elementCount() * 4 * (inputs + 1);
    }

    /** Computes the key and writes it, through {@code writer} when there is one, else whole to {@code sink}. */
    void run(KeyTask task, List<TensorSource> sources, TensorSink sink, WriteBehind writer,
             KernelPlan.Workspace ws, KernelPlan.Timer timer) throws IOException, InterruptedException {
        String key = task.output().name();
        int n = (int) task.output().elementCount();
        long t0 = System.nanoTime();
        float[][] inputs = new float[reads.size()][];
        for (int j = 0; j < inputs.length; j++) {
            KeyPlan.Read r = reads.get(j);
            ByteBuffer bytes = sources.get(r.source()).read(key);
            float[] values = new float[n];
            for (int from = 0; from < n; from += KernelPlan.CHUNK) {
                int count = Math.min(KernelPlan.CHUNK, n - from);
                FloatCodec.decode(bytes, r.dtype(), from, count, ws.chunk(), ws.scratch());
                System.arraycopy(ws.chunk(), 0, values, from, count);
            }
            inputs[j] = values;
        }
        long t1 = System.nanoTime();
        float[] result = kernel.apply(key, seed, inputs);
        if (result == null || result.length != n) {
            throw new MergeException("key '" + key + "': the method returned " + (result == null ? "nothing"
                    : result.length + " values instead of " + n));
        }
        long t2 = System.nanoTime();
        KernelPlan.write(key, result, task.output().dtype(), sink, writer, ws);
        timer.add(t1 - t0, t2 - t1, System.nanoTime() - t2);
    }
}
