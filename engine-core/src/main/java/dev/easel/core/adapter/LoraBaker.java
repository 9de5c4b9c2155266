package dev.easel.core.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.adapter.AdapterType;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSink;
import dev.easel.api.tensor.TensorSource;
import dev.easel.api.tensor.WritePlan;
import dev.easel.core.format.RangeSink;
import dev.easel.core.merge.MemoryBudget;
import dev.easel.core.merge.ModelIo;
import dev.easel.core.merge.TensorArrays;
import dev.easel.core.merge.WriteBehind;
import dev.easel.core.runtime.ComputeRuntime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;

/**
 * Folds adapters into a checkpoint, streaming: every key the adapters do not touch goes from the (memory-mapped)
 * input to the output as bytes, with no conversion; every touched key is read once as float32, gets the sum of its
 * modules' deltas ({@code W' = W + Σ delta(m_i)}, computed by each module's {@link AdapterType} in float32), and is
 * converted once to the output type. Keys run on a small thread pool under the merge engine's memory budget, and
 * the output is written through the same atomic sink, so memory stays flat and a failure leaves no file.
 */
public final class LoraBaker {
    private final ComputeRuntime runtime;
    private final ModelIo io;
    private final List<AdapterType> types;

    public LoraBaker(ComputeRuntime runtime, ModelIo io, List<AdapterType> types) {
        this.runtime = runtime;
        this.io = io;
        this.types = List.copyOf(types);
    }

    /** One module's contribution to one checkpoint key. */
    private record Patch(AdapterFile file, LoadedModule module, AdapterTarget target, double strength, boolean bias) {
    }

    /** Bakes, or throws {@link AdapterException} naming the file and module at fault. */
    public BakeResult bake(BakeRequest request) {
        long t0 = System.nanoTime();
        List<AdapterFile> files = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        try (TensorSource base = io.open(request.base())) {
            AdapterKeyMap keyMap = AdapterKeyMap.forModel(base.tensors().stream().map(TensorInfo::name).toList());
            Map<String, List<Patch>> patches = new LinkedHashMap<>();
            int modules = 0;
            for (BakeRequest.Strength s : request.adapters()) {
                AdapterFile file = AdapterFile.open(io.open(s.file()), types, request.preferredType());
                files.add(file);
                for (Map.Entry<String, List<String>> u : file.unrecognized().entrySet()) {
                    String msg = s.file() + ": no adapter type recognises module '" + u.getKey() + "' (keys "
                            + u.getValue() + ")";
                    if (!request.skipUnknown()) {
                        throw new AdapterException(msg + "; --skip-unknown bakes the rest");
                    }
                    warnings.add(msg);
                }
                for (LoadedModule m : file.modules().values()) {
                    var target = keyMap.resolve(m.name());
                    if (target.isEmpty()) {
                        String msg = s.file() + ": module '" + m.name() + "' matches no key of " + request.base();
                        if (!request.skipUnknown()) {
                            throw new AdapterException(msg + "; --skip-unknown bakes the rest");
                        }
                        warnings.add(msg);
                        continue;
                    }
                    AdapterTarget t = target.get();
                    patches.computeIfAbsent(t.weightKey(), k -> new ArrayList<>())
                            .add(new Patch(file, m, t, s.strength(), false));
                    if (t.biasKey() != null && m.type().changesBias(m.module())) {
                        patches.computeIfAbsent(t.biasKey(), k -> new ArrayList<>())
                                .add(new Patch(file, m, t, s.strength(), true));
                    }
                    modules++;
                }
            }
            List<TensorInfo> planned = new ArrayList<>();
            for (TensorInfo info : base.tensors()) {
                DType type = request.dtype() != null && TensorArrays.computable(info.dtype()) ? request.dtype()
                        : info.dtype();
                if (patches.containsKey(info.name()) && !TensorArrays.computable(info.dtype())) {
                    throw new AdapterException(request.base() + ": key '" + info.name() + "' has type "
                            + info.dtype() + " and cannot take an adapter delta");
                }
                planned.add(info.withDType(type));
            }
            Timings timings = new Timings();
            int patched = run(request, base, planned, patches, timings);
            return new BakeResult(request.output(), modules, patched, planned.size() - patched, warnings,
                    timings.toString(), System.nanoTime() - t0);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        } finally {
            for (AdapterFile f : files) {
                try {
                    f.close();
                } catch (IOException ignored) {
                    // closing a read-only mapping cannot lose data
                }
            }
        }
    }

    private int run(BakeRequest request, TensorSource base, List<TensorInfo> planned, Map<String, List<Patch>> patches,
                    Timings timings) throws IOException {
        MemoryBudget budget = new MemoryBudget(request.effectiveMemoryBudget());
        AtomicReference<Throwable> failure = new AtomicReference<>();
        int threads = request.effectiveThreads();
        // One key per worker, each libtorch product on its worker alone: the pool already uses every core.
        int libtorchThreads = runtime.intraOpThreads(1);
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(() -> {
                runtime.intraOpThreads(1);
                r.run();
            }, "easel-bake");
            t.setDaemon(true);
            return t;
        });
        // Untouched keys are I/O, touched ones CPU: a thread of their own lets the copies stream on while every
        // compute thread is busy with a delta.
        ExecutorService copier = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "easel-bake-copy");
            t.setDaemon(true);
            return t;
        });
        int patched = 0;
        WriteBehind writer = null;
        try (TensorSink sink = io.create(request.output(), new WritePlan(planned, base.metadata()))) {
            if (sink instanceof RangeSink ranges) {
                writer = new WriteBehind(ranges, 2 * threads + 2, stagingBytes);
            }
            WriteBehind fusedWriter = writer;
            List<Future<?>> futures = new ArrayList<>();
            // Copies first: they hold no working memory (mapped input to output), so they are all queued at once
            // and never wait behind a large delta's memory reservation.
            List<TensorInfo> order = new ArrayList<>();
            for (boolean copies : new boolean[] {true, false}) {
                for (TensorInfo out : planned) {
                    TensorInfo in = base.info(out.name()).orElseThrow();
                    boolean convert = patches.containsKey(out.name()) || in.dtype() != out.dtype();
                    if (convert != copies) {
                        order.add(out);
                    }
                }
            }
            for (TensorInfo out : order) {
                if (failure.get() != null) {
                    break;
                }
                TensorInfo in = base.info(out.name()).orElseThrow();
                List<Patch> p = patches.get(out.name());
                boolean convert = p != null || in.dtype() != out.dtype();
                if (!convert) {
                    futures.add(copier.submit(() -> {
                        try {
                            if (failure.get() == null) {
                                long tc = System.nanoTime();
                                sink.write(out.name(), base.read(out.name()).duplicate());
                                timings.copy.add(System.nanoTime() - tc);
                            }
                        } catch (Throwable e) {
                            failure.compareAndSet(null, e);
                        }
                    }));
                    continue;
                }
                patched++;
                // The factors are read here, before the memory reservation, so that a key that takes the fused
                // path reserves what it really uses (its factors and one delta block), not a whole float32 copy.
                NDManager keyManager = runtime.newManager();
                Product product;
                int permits;
                try {
                    long tf = System.nanoTime();
                    product = product(in, p, keyManager);
                    timings.factors.add(System.nanoTime() - tf);
                    permits = budget.acquire(product != null ? product.workingBytes()
                            : in.elementCount() * 12 + 4096);
                } catch (Throwable e) {
                    keyManager.close();
                    throw e;
                }
                futures.add(pool.submit(() -> {
                    try (keyManager) {
                        if (failure.get() == null) {
                            if (product != null) {
                                fused(base, in, out, product, sink, fusedWriter, keyManager, timings);
                            } else {
                                patchKey(base, in, out, p == null ? List.of() : p, sink, keyManager, timings);
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    } finally {
                        budget.release(permits);
                    }
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
            if (writer != null && failure.get() == null) {
                try {
                    long tw = System.nanoTime();
                    writer.finish();
                    timings.wait.add(System.nanoTime() - tw);
                } catch (IOException | RuntimeException e) {
                    failure.compareAndSet(null, e);
                }
            }
            Throwable t = failure.get();
            if (t != null) {
                if (t instanceof AdapterException ae) {
                    throw ae;
                }
                if (t instanceof IOException io) {
                    throw io;
                }
                if (t instanceof UncheckedIOException uio) {
                    throw uio.getCause();
                }
                throw new AdapterException(t.getMessage() == null ? t.toString() : t.getMessage(), t);
            }
            sink.commit();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AdapterException("bake interrupted");
        } catch (ExecutionException e) {
            throw new AdapterException(e.getCause().getMessage(), e.getCause());
        } finally {
            pool.shutdownNow();
            copier.shutdownNow();
            if (writer != null) {
                writer.close();
            }
            runtime.intraOpThreads(libtorchThreads);
        }
        return patched;
    }

    private void patchKey(TensorSource base, TensorInfo in, TensorInfo out, List<Patch> patches, TensorSink sink,
                          NDManager manager, Timings timings) throws IOException {
        long t0 = System.nanoTime();
        NDArray w = TensorArrays.toFloat32(manager, base.read(in.name()), in.dtype(), new Shape(in.shape()));
        long t1 = System.nanoTime();
        timings.read.add(t1 - t0);
        for (Patch p : patches) {
            try (NDManager scope = manager.newSubManager()) {
                apply(w, p, scope);
            } catch (AdapterException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new AdapterException(p.file().location() + ": module '" + p.module().name() + "' ("
                        + p.module().typeId() + ") on '" + in.name() + "': " + e.getMessage(), e);
            }
        }
        long t2 = System.nanoTime();
        timings.compute.add(t2 - t1);
        ByteBuffer bytes = TensorArrays.toBytes(w, out.dtype());
        long t3 = System.nanoTime();
        timings.convert.add(t3 - t2);
        sink.write(out.name(), bytes);
        timings.write.add(System.nanoTime() - t3);
    }

    /**
     * Elements of one row block of the fused path (4 MiB of float32): large enough that the few native calls per
     * block cost nothing next to their loops, small enough that a block's arrays stay in the caches and that the
     * native allocator hands the same memory back block after block instead of mapping (and page-faulting) fresh
     * memory. Settable for tests, which need several blocks on tiny tensors.
     */
    static int blockElements = 1 << 20;
    /** Bytes of narrowed output gathered before one positional write by the write-behind thread (tests shrink it). */
    static int stagingBytes = 4 << 20;

    /**
     * A key's delta as one low-rank product {@code up·down}: every patch's factors side by side (ranks add), so the
     * sum of the patches' deltas is a single matrix product.
     */
    private record Product(NDArray up, NDArray down, long rows, long cols) {
        /** The factors and one block's arrays (float32 weight, product, narrowed copy), for the memory budget. */
        long workingBytes() {
            long block = Math.min(rows * cols, Math.max(cols, blockElements));
            return 4 * (up.size() + down.size()) + 10 * block + 4096;
        }
    }

    /**
     * The key's delta as a product, or {@code null} when some patch is not a plain product (or covers a slice or a
     * bias), in which case the key takes the general path.
     */
    private static Product product(TensorInfo in, List<Patch> patches, NDManager manager) {
        if (in.rank() < 2 || patches == null || patches.isEmpty()) {
            return null;
        }
        long rows = in.dim(0);
        long cols = in.elementCount() / rows;
        List<NDArray> ups = new ArrayList<>();
        List<NDArray> downs = new ArrayList<>();
        for (Patch p : patches) {
            if (p.bias() || p.target().sliced()) {
                return null;
            }
            LoadedModule m = p.module();
            NDArray[] f;
            try {
                f = m.type().lowRankFactors(m.module(), p.file().read(m, manager), p.strength(), m.parameters(),
                        manager);
            } catch (AdapterException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new AdapterException(p.file().location() + ": module '" + m.name() + "' (" + m.typeId()
                        + ") on '" + in.name() + "': " + e.getMessage(), e);
            }
            if (f == null) {
                return null;
            }
            if (f[0].getShape().dimension() != 2 || f[1].getShape().dimension() != 2
                    || f[0].getShape().get(0) != rows || f[1].getShape().get(1) != cols
                    || f[0].getShape().get(1) != f[1].getShape().get(0)) {
                throw new AdapterException(p.file().location() + ": module '" + m.name() + "' gives factors "
                        + f[0].getShape() + " x " + f[1].getShape() + " for '" + in.name() + "' of shape "
                        + java.util.Arrays.toString(in.shape()));
            }
            ups.add(f[0].getDataType() == DataType.FLOAT32 ? f[0] : f[0].toType(DataType.FLOAT32, false));
            downs.add(f[1].getDataType() == DataType.FLOAT32 ? f[1] : f[1].toType(DataType.FLOAT32, false));
        }
        NDArray up = ups.size() == 1 ? ups.get(0) : NDArrays.concat(new NDList(ups), 1);
        NDArray down = downs.size() == 1 ? downs.get(0) : NDArrays.concat(new NDList(downs), 0);
        return new Product(up, down, rows, cols);
    }

    /**
     * {@code W + up·down} in row blocks: each block of the (memory-mapped) weight is widened, gets its rows of the
     * product from one matrix multiplication, and is narrowed, so neither the float32 weight nor the whole delta ever
     * exists; a handful of native calls per block, each a vectorised loop. The narrowed bytes are gathered in the
     * write-behind thread's staging buffers, so that a worker computes its next block while the kernel copies the
     * last one into the output (without a writer, the key is gathered whole and written at once).
     */
    private static void fused(TensorSource base, TensorInfo in, TensorInfo out, Product product, TensorSink sink,
                              WriteBehind writer, NDManager manager, Timings timings)
            throws IOException, InterruptedException {
        long rows = product.rows();
        long cols = product.cols();
        long blockRows = Math.max(1, blockElements / cols);
        int inSize = in.dtype().byteSize();
        ByteBuffer src = base.read(in.name());
        long tMatmul = 0;
        long tConvert = 0;
        long tWrite = 0;
        long t = System.nanoTime();
        ByteBuffer staging = writer != null ? writer.take()
                : ByteBuffer.allocateDirect(Math.toIntExact(out.byteSize())).order(ByteOrder.LITTLE_ENDIAN);
        tWrite += System.nanoTime() - t;
        long written = 0;
        for (long a = 0; a < rows; a += blockRows) {
            long b = Math.min(rows, a + blockRows);
            try (NDManager scope = manager.newSubManager()) {
                long t0 = System.nanoTime();
                ByteBuffer part = src.duplicate();
                part.position(Math.toIntExact(a * cols * inSize)).limit(Math.toIntExact(b * cols * inSize));
                NDArray w = TensorArrays.toFloat32(scope, part, in.dtype(), new Shape(b - a, cols));
                long t1 = System.nanoTime();
                w.addi(product.up().get(new NDIndex(a + ":" + b)).matMul(product.down()));
                long t2 = System.nanoTime();
                ByteBuffer bytes = TensorArrays.toBytes(w, out.dtype());
                long t3 = System.nanoTime();
                while (bytes.hasRemaining()) {
                    if (!staging.hasRemaining()) {
                        staging.flip();
                        // Read the size before handing the buffer over: once submitted it may be written, returned
                        // to the pool and refilled by another thread before this line would run.
                        long size = staging.limit();
                        writer.submit(out.name(), written, staging);
                        written += size;
                        staging = writer.take();
                    }
                    int n = Math.min(bytes.remaining(), staging.remaining());
                    ByteBuffer slice = bytes.slice();
                    slice.limit(n);
                    staging.put(slice);
                    bytes.position(bytes.position() + n);
                }
                tMatmul += t2 - t1;
                tConvert += t1 - t0 + t3 - t2;
                tWrite += System.nanoTime() - t3;
            }
        }
        t = System.nanoTime();
        staging.flip();
        if (writer != null) {
            writer.submit(out.name(), written, staging);
        } else {
            sink.write(out.name(), staging);
        }
        tWrite += System.nanoTime() - t;
        timings.matmul.add(tMatmul);
        timings.fuse.add(tConvert);
        timings.wait.add(tWrite);
    }

    /** Nanoseconds summed over workers, to see what dominates a bake. */
    static final class Timings {
        final LongAdder factors = new LongAdder();
        final LongAdder matmul = new LongAdder();
        final LongAdder fuse = new LongAdder();
        final LongAdder read = new LongAdder();
        final LongAdder compute = new LongAdder();
        final LongAdder convert = new LongAdder();
        final LongAdder write = new LongAdder();
        final LongAdder wait = new LongAdder();
        final LongAdder copy = new LongAdder();

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "factors %.1f s, products %.1f s, widen+add+narrow %.1f s, "
                    + "staging+waiting for the writer %.1f s; general path: widen %.1f s, delta %.1f s, narrow %.1f s, "
                    + "write %.1f s; raw copies %.1f s (summed over threads)",
                    factors.sum() / 1e9, matmul.sum() / 1e9, fuse.sum() / 1e9, wait.sum() / 1e9,
                    read.sum() / 1e9, compute.sum() / 1e9, convert.sum() / 1e9, write.sum() / 1e9, copy.sum() / 1e9);
        }
    }

    /** Adds one module's delta into {@code w} in place. */
    private static void apply(NDArray w, Patch p, NDManager scope) {
        LoadedModule m = p.module();
        Map<String, NDArray> tensors = p.file().read(m, scope);
        if (p.bias()) {
            // a module on a third of a fused q/k/v projection changes that third of its bias
            AdapterTarget t = p.target();
            NDIndex index = t.sliced() ? new NDIndex(t.part() * (w.getShape().get(0) / t.parts()) + ":"
                    + (t.part() + 1) * (w.getShape().get(0) / t.parts())) : null;
            NDArray bias = index == null ? w : w.get(index);
            NDArray d = m.type().biasDelta(m.module(), tensors, bias, p.strength(), m.parameters(), scope);
            if (d == null) {
                return;
            }
            if (d.size() != bias.size()) {
                throw new AdapterException(p.file().location() + ": module '" + m.name() + "' gives a bias delta of "
                        + d.size() + " values for '" + t.biasKey() + "'" + (index == null ? "" : " (a third: "
                        + bias.size() + ")") + " of " + w.size());
            }
            if (index == null) {
                w.addi(d.reshape(w.getShape()));
            } else {
                w.set(index, bias.add(d.reshape(bias.getShape())));
            }
            return;
        }
        AdapterTarget t = p.target();
        if (t.sliced()) {
            long rows = w.getShape().get(0) / t.parts();
            NDIndex index = new NDIndex(t.part() * rows + ":" + (t.part() + 1) * rows);
            NDArray slice = w.get(index);
            NDArray d = m.type().delta(m.module(), tensors, slice, p.strength(), m.parameters(), scope);
            w.set(index, slice.add(d.reshape(slice.getShape())));
            return;
        }
        NDArray d = m.type().delta(m.module(), tensors, w, p.strength(), m.parameters(), scope);
        if (d.getShape().size() != w.getShape().size()) {
            throw new AdapterException(p.file().location() + ": module '" + m.name() + "' gives a delta of shape "
                    + d.getShape() + " for '" + t.weightKey() + "' of shape " + w.getShape());
        }
        w.addi(d.reshape(w.getShape()));
    }
}
