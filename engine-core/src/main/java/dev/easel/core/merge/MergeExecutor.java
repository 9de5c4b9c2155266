package dev.easel.core.merge;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.merge.MergeAlgorithm;
import dev.easel.api.tensor.TensorSink;
import dev.easel.core.Easel;
import dev.easel.core.format.RangeSink;
import dev.easel.core.plugin.PluginRegistry;
import dev.easel.core.runtime.ComputeRuntime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs merges: plans a {@link MergeRequest}, then streams every key through its methods and into the output.
 *
 * <p>The programmatic entry point is {@link #run(MergeRequest)} (or {@link #run(MergeRequest, MergeProgress)}):
 * <pre>{@code
 * try (Easel easel = Easel.start(EaselOptions.embedded())) {
 *     MergeResult r = MergeExecutor.of(easel).run(MergeRequest.of("weighted_sum", Map.of("alpha", 0.3),
 *             List.of(a, b), out));
 * }
 * }</pre>
 *
 * <p>How a key runs: the worker reserves the key's estimated working memory from a shared budget (so the bytes in
 * flight stay bounded whatever the thread count), opens one {@link NDManager} sub-manager for the key, wraps each
 * input's bytes (a memory-mapped view where the reader gives one) and converts them once to float32, calls the
 * methods, converts the result once to the output type and hands the native memory to the sink, then closes the
 * manager. Keys whose plan is a plain copy go from the input's bytes to the sink with no conversion. Element-wise
 * methods over a large tensor are fed slices of {@value #SLICE_ELEMENTS} elements so that one 38-million-element
 * embedding never needs several float32 copies at once.
 *
 * <p>Keys whose methods all offer a pure-Java {@link dev.easel.api.merge.ElementwiseKernel} take the fast path of
 * {@link KernelPlan} instead: no native arrays, constant memory per thread, decoded and encoded in chunks straight
 * between the mapped inputs and the output file; methods that need whole tensors may offer a
 * {@link dev.easel.api.merge.TensorKernel} instead ({@link TensorKernelPlan}: inputs decoded straight into Java
 * arrays). Set the system property {@code easel.merge.kernels=false} to force the NDArray path (for comparisons).
 */
public final class MergeExecutor {
    /** Elements per slice when an element-wise method runs over a large tensor. */
    static final int SLICE_ELEMENTS = 1 << 22;

    private static final Logger LOG = LoggerFactory.getLogger(MergeExecutor.class);

    private final MergePlanner planner;
    private final ComputeRuntime runtime;
    private final ModelIo io;
    private boolean kernels = !"false".equalsIgnoreCase(System.getProperty("easel.merge.kernels"));

    public MergeExecutor(PluginRegistry registry, ComputeRuntime runtime, ModelIo io) {
        this.planner = new MergePlanner(registry, io);
        this.runtime = runtime;
        this.io = io;
    }

    /** An executor over a running engine's plugins, runtime and model formats. */
    public static MergeExecutor of(Easel easel) {
        return new MergeExecutor(easel.registry(), easel.runtime(), new FormatModelIo(easel.registry()));
    }

    /** An executor over a running engine's plugins and runtime, reading and writing through {@code io}. */
    public static MergeExecutor of(Easel easel, ModelIo io) {
        return new MergeExecutor(easel.registry(), easel.runtime(), io);
    }

    /** Whether element-wise methods run through their pure-Java kernels when they have one (default true). */
    public MergeExecutor useKernels(boolean use) {
        this.kernels = use;
        return this;
    }

    /** Checks a request and plans it without reading tensor data. Close the plan (or pass it to {@link #execute}). */
    public MergePlan plan(MergeRequest request) {
        return planner.plan(request);
    }

    /** Plans and runs a merge. */
    public MergeResult run(MergeRequest request) {
        return run(request, MergeProgress.NONE);
    }

    /** Plans and runs a merge, reporting progress. */
    public MergeResult run(MergeRequest request, MergeProgress progress) {
        long t0 = System.nanoTime();
        try (MergePlan plan = plan(request)) {
            for (String w : plan.warnings()) {
                LOG.warn(w);
            }
            return execute(plan, progress, t0);
        }
    }

    /** Runs a plan made by {@link #plan}; the plan is not closed and its warnings are left to the caller. */
    public MergeResult execute(MergePlan plan, MergeProgress progress) {
        return execute(plan, progress, System.nanoTime());
    }

    private MergeResult execute(MergePlan plan, MergeProgress progress, long t0) {
        MergeRequest request = plan.request();
        progress.started(plan.tasks().size(), plan.outputBytes());
        Timings timings = new Timings();
        int threads = request.effectiveThreads();
        MemoryBudget budget = new MemoryBudget(request.effectiveMemoryBudget());
        // whole-tensor kernels hold their keys on the Java heap: however large the user's budget, keep what they
        // reserve together under half the heap, so that a generous --memory cannot run the JVM out of heap
        MemoryBudget heap = new MemoryBudget(Math.min(request.effectiveMemoryBudget(),
                Runtime.getRuntime().maxMemory() / 2));
        AtomicReference<Throwable> failure = new AtomicReference<>();
        AtomicInteger threadIds = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "easel-merge-" + threadIds.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        KernelPlan.KernelCache kernelCache = new KernelPlan.KernelCache();
        TensorKernelPlan.Cache tensorKernels = new TensorKernelPlan.Cache();
        ThreadLocal<KernelPlan.Workspace> workspaces = ThreadLocal.withInitial(KernelPlan.Workspace::new);
        WriteBehind writer = null;
        try (TensorSink sink = io.create(request.output(), plan.writePlan())) {
            if (kernels && sink instanceof RangeSink ranges) {
                writer = new WriteBehind(ranges, 2 * threads + 2, KernelPlan.STAGING_BYTES);
            }
            WriteBehind fastWriter = writer;
            List<Future<?>> futures = new ArrayList<>();
            for (KeyTask task : plan.tasks()) {
                if (failure.get() != null) {
                    break;
                }
                KernelPlan fast = kernels ? KernelPlan.of(task, kernelCache).orElse(null) : null;
                TensorKernelPlan whole = kernels && fast == null
                        ? TensorKernelPlan.of(task, tensorKernels, request.seed()).orElse(null) : null;
                int permits = budget.acquire(fast != null ? KernelPlan.WORKING_BYTES
                        : whole != null ? TensorKernelPlan.estimate(task) : estimate(task));
                int heapPermits = whole != null ? heap.acquire(TensorKernelPlan.estimate(task)) : 0;
                futures.add(pool.submit(() -> {
                    try {
                        if (failure.get() == null) {
                            if (fast != null) {
                                fast.run(task, plan.sources(), sink, fastWriter, workspaces.get(), timings::add);
                            } else if (whole != null) {
                                whole.run(task, plan.sources(), sink, fastWriter, workspaces.get(), timings::add);
                            } else {
                                runTask(plan, task, sink, request.seed(), timings);
                            }
                            progress.keyDone(task.output().name(), task.output().byteSize());
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    } finally {
                        budget.release(permits);
                        heap.release(heapPermits);
                    }
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
            Throwable t = failure.get();
            if (t != null) {
                if (t instanceof MergeException me) {
                    throw me;
                }
                throw new MergeException("merge failed: " + t.getMessage(), t);
            }
            if (writer != null) {
                writer.finish();
            }
            sink.commit();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + request.output() + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MergeException("merge interrupted");
        } catch (ExecutionException e) {
            throw new MergeException("merge failed: " + e.getCause().getMessage(), e.getCause());
        } finally {
            pool.shutdownNow();
            if (writer != null) {
                writer.close();
            }
        }
        return new MergeResult(request.output(), plan.mergedKeys(), plan.copiedKeys(), plan.droppedKeys(),
                plan.outputBytes(), plan.warnings(), timings.read.sum(), timings.compute.sum(), timings.write.sum(),
                System.nanoTime() - t0);
    }

    /** Working bytes of a key: float32 copies of every node, plus the output twice when sliced. */
    static long estimate(KeyTask task) {
        long n = task.output().elementCount();
        if (task.rawCopy()) {
            return 1024;
        }
        int nodes = task.plan().nodes() + 1;
        if (task.plan().sliceable() && n > SLICE_ELEMENTS) {
            return (long) SLICE_ELEMENTS * 4 * nodes + 2 * task.output().byteSize();
        }
        return n * 4 * nodes + task.output().byteSize();
    }

    private void runTask(MergePlan plan, KeyTask task, TensorSink sink, long seed, Timings timings)
            throws IOException {
        String key = task.output().name();
        if (task.rawCopy()) {
            long t = System.nanoTime();
            KeyPlan.Read read = (KeyPlan.Read) task.plan();
            sink.write(key, plan.sources().get(read.source()).read(key).duplicate());
            timings.write.add(System.nanoTime() - t);
            return;
        }
        long n = task.output().elementCount();
        try (NDManager manager = runtime.newManager()) {
            if (task.plan().sliceable() && n > SLICE_ELEMENTS) {
                List<NDArray> parts = new ArrayList<>();
                for (long from = 0; from < n; from += SLICE_ELEMENTS) {
                    long to = Math.min(n, from + SLICE_ELEMENTS);
                    try (NDManager slice = manager.newSubManager()) {
                        NDArray r = evaluate(plan, task, slice, seed, new long[] {from, to}, timings);
                        long t = System.nanoTime();
                        NDArray converted = r.toType(TensorArrays.dataType(task.output().dtype()), false);
                        converted.attach(manager);
                        parts.add(converted);
                        timings.write.add(System.nanoTime() - t);
                    }
                }
                long t = System.nanoTime();
                NDArray whole = parts.size() == 1 ? parts.get(0) : NDArrays.concat(new NDList(parts));
                sink.write(key, TensorArrays.toBytes(whole, task.output().dtype()));
                timings.write.add(System.nanoTime() - t);
            } else {
                NDArray r = evaluate(plan, task, manager, seed, null, timings);
                long t = System.nanoTime();
                sink.write(key, TensorArrays.toBytes(r, task.output().dtype()));
                timings.write.add(System.nanoTime() - t);
            }
        }
    }

    private NDArray evaluate(MergePlan plan, KeyTask task, NDManager manager, long seed, long[] range,
                             Timings timings) throws IOException {
        Map<Object, NDArray> memo = new HashMap<>();
        NDArray r = evaluate(plan, task, task.plan(), manager, seed, range, memo, timings);
        long[] expected = range == null ? task.output().shape() : new long[] {range[1] - range[0]};
        if (!Arrays.equals(r.getShape().getShape(), expected)) {
            throw new MergeException("key '" + task.output().name() + "': the method returned shape "
                    + r.getShape() + " instead of " + Arrays.toString(expected));
        }
        return r;
    }

    private NDArray evaluate(MergePlan plan, KeyTask task, KeyPlan node, NDManager manager, long seed, long[] range,
                             Map<Object, NDArray> memo, Timings timings) throws IOException {
        String key = task.output().name();
        if (node instanceof KeyPlan.Read read) {
            NDArray cached = memo.get(read.source());
            if (cached != null) {
                return cached;
            }
            long t = System.nanoTime();
            ByteBuffer bytes = plan.sources().get(read.source()).read(key);
            Shape shape = new Shape(read.shape());
            if (range != null) {
                int es = read.dtype().byteSize();
                bytes = bytes.duplicate();
                bytes.position(Math.toIntExact(range[0] * es)).limit(Math.toIntExact(range[1] * es));
                shape = new Shape(range[1] - range[0]);
            }
            NDArray a = TensorArrays.toFloat32(manager, bytes, read.dtype(), shape);
            timings.read.add(System.nanoTime() - t);
            memo.put(read.source(), a);
            return a;
        }
        KeyPlan.Apply apply = (KeyPlan.Apply) node;
        NDArray cached = memo.get(apply.merge());
        if (cached != null) {
            return cached;
        }
        List<NDArray> inputs = new ArrayList<>();
        for (KeyPlan in : apply.inputs()) {
            inputs.add(evaluate(plan, task, in, manager, seed, range, memo, timings));
        }
        long t = System.nanoTime();
        MergeAlgorithm alg = apply.merge().algorithm();
        KeyMergeContext context = new KeyMergeContext(key, task.block(), manager,
                KeySeeds.seed(seed + apply.merge().index, key));
        NDArray result;
        if (apply.inpaintSlice()) {
            NDArray first = inputs.get(0);
            long channels = apply.inputs().get(1).shape()[1];
            List<NDArray> sliced = new ArrayList<>(inputs);
            sliced.set(0, first.get(new NDIndex(":, 0:" + channels)));
            NDArray merged = alg.merge(context, sliced, apply.merge().parametersFor(task.block()));
            result = merged.concat(first.get(new NDIndex(":, " + channels + ":")), 1);
        } else {
            result = alg.merge(context, inputs, apply.merge().parametersFor(task.block()));
        }
        if (result == null) {
            throw new MergeException("method " + apply.merge().label() + " returned nothing for key '" + key + "'");
        }
        timings.compute.add(System.nanoTime() - t);
        memo.put(apply.merge(), result);
        return result;
    }

    /** Nanoseconds summed over workers, to see whether reading, computing or writing dominates. */
    private static final class Timings {
        final LongAdder read = new LongAdder();
        final LongAdder compute = new LongAdder();
        final LongAdder write = new LongAdder();

        void add(long readNanos, long computeNanos, long writeNanos) {
            read.add(readNanos);
            compute.add(computeNanos);
            write.add(writeNanos);
        }
    }
}
