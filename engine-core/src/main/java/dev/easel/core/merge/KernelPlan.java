package dev.easel.core.merge;

import dev.easel.api.merge.ElementwiseKernel;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorSink;
import dev.easel.api.tensor.TensorSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The element-wise fast path of one key: when every method of the key's plan offers an {@link ElementwiseKernel}
 * and every tensor involved is F16, BF16 or F32, the key is computed in chunks of {@value #CHUNK} elements in plain
 * Java: each input chunk is decoded from the (memory-mapped) file bytes into a reused float array, the kernels run,
 * the result is encoded into {@value #STAGING_BYTES}-byte direct buffers of a small pool that a {@link WriteBehind}
 * thread writes to their place in the output while computing goes on. No native array is created and memory is
 * constant, whatever the tensor's size.
 *
 * <p>Why: for weighted sums and add-differences the arithmetic is a few flops per element; creating libtorch
 * arrays per key and crossing JNI to convert, compute and copy back cost several times the arithmetic itself.
 */
final class KernelPlan {
    /** Elements per step: small enough for the working arrays to stay in the CPU caches. */
    static final int CHUNK = 1 << 15;
    /** Bytes of encoded output gathered before one positional write. */
    static final int STAGING_BYTES = 4 << 20;
    /** Working memory of one key on this path (for the memory budget): a few arrays; buffers are the pool's. */
    static final long WORKING_BYTES = 16L * CHUNK * 4;

    private final Node root;
    private final int slots;

    private KernelPlan(Node root, int slots) {
        this.root = root;
        this.slots = slots;
    }

    /** One value of the plan: a model's tensor, or a kernel over other nodes. Each has its own array slot. */
    private sealed interface Node permits ReadNode, KernelNode {
        int slot();
    }

    private record ReadNode(int source, DType dtype, int slot) implements Node {
    }

    private record KernelNode(ElementwiseKernel kernel, List<Node> inputs, int slot) implements Node {
    }

    /** The kernels of each merge, by block, so that a method's {@code kernel(...)} is asked once per block. */
    static final class KernelCache {
        private final Map<CompiledMerge, Map<String, Optional<ElementwiseKernel>>> cache = new ConcurrentHashMap<>();

        Optional<ElementwiseKernel> kernel(CompiledMerge merge, String block) {
            return cache.computeIfAbsent(merge, m -> new ConcurrentHashMap<>()).computeIfAbsent(block,
                    b -> merge.algorithm().elementwise() ? merge.algorithm().kernel(merge.parametersFor(b))
                            : Optional.empty());
        }
    }

    /** The fast-path plan of a task, or empty when some method has no kernel or some type is not supported. */
    static Optional<KernelPlan> of(KeyTask task, KernelCache kernels) {
        if (task.rawCopy() || !FloatCodec.supports(task.output().dtype())) {
            return Optional.empty();
        }
        int[] slots = {0};
        Node root = compile(task.plan(), task.block(), kernels, new IdentityHashMap<>(), new java.util.HashMap<>(),
                slots);
        return root == null ? Optional.empty() : Optional.of(new KernelPlan(root, slots[0]));
    }

    private static Node compile(KeyPlan plan, String block, KernelCache kernels, Map<CompiledMerge, Node> merges,
                                Map<Integer, Node> reads, int[] slots) {
        if (plan instanceof KeyPlan.Read read) {
            if (!FloatCodec.supports(read.dtype())) {
                return null;
            }
            Node known = reads.get(read.source());
            if (known == null) {
                known = new ReadNode(read.source(), read.dtype(), slots[0]++);
                reads.put(read.source(), known);
            }
            return known;
        }
        KeyPlan.Apply apply = (KeyPlan.Apply) plan;
        if (apply.inpaintSlice()) {
            return null;
        }
        Node known = merges.get(apply.merge());
        if (known != null) {
            return known;
        }
        Optional<ElementwiseKernel> kernel = kernels.kernel(apply.merge(), block);
        if (kernel.isEmpty()) {
            return null;
        }
        List<Node> inputs = new ArrayList<>();
        for (KeyPlan in : apply.inputs()) {
            Node n = compile(in, block, kernels, merges, reads, slots);
            if (n == null) {
                return null;
            }
            inputs.add(n);
        }
        Node node = new KernelNode(kernel.get(), List.copyOf(inputs), slots[0]++);
        merges.put(apply.merge(), node);
        return node;
    }

    /** Per-thread arrays, reused from key to key. */
    static final class Workspace {
        private float[][] arrays = new float[0][];
        private final short[] scratch = new short[CHUNK];
        private final float[] chunk = new float[CHUNK];

        short[] scratch() {
            return scratch;
        }

        float[] chunk() {
            return chunk;
        }

        float[] array(int slot) {
            if (slot >= arrays.length) {
                arrays = java.util.Arrays.copyOf(arrays, slot + 1);
            }
            if (arrays[slot] == null) {
                arrays[slot] = new float[CHUNK];
            }
            return arrays[slot];
        }
    }

    /** Nanoseconds spent decoding, in kernels and encoding or writing, added to the run's totals. */
    interface Timer {
        void add(long readNanos, long computeNanos, long writeNanos);
    }

    /**
     * Computes the key and writes it: through {@code writer} in buffer-sized parts when there is one, else whole to
     * {@code sink} (sinks that take whole tensors only: tests, other formats).
     */
    void run(KeyTask task, List<TensorSource> sources, TensorSink sink, WriteBehind writer, Workspace ws,
             Timer timer) throws IOException, InterruptedException {
        String key = task.output().name();
        DType outType = task.output().dtype();
        long n = task.output().elementCount();
        int outSize = outType.byteSize();
        ByteBuffer[] bytes = new ByteBuffer[sources.size()];
        long tRead = 0;
        long tCompute = 0;
        long tWrite = 0;
        long t = System.nanoTime();
        ByteBuffer out = writer != null ? writer.take() : ByteBuffer.allocate(Math.toIntExact(n * outSize));
        tWrite += System.nanoTime() - t;
        long written = 0;
        boolean[] done = new boolean[slots];
        long[] compute = {0};
        for (long from = 0; from < n; from += CHUNK) {
            int count = (int) Math.min(CHUNK, n - from);
            java.util.Arrays.fill(done, false);
            long t0 = System.nanoTime();
            compute[0] = 0;
            float[] result = evaluate(root, task, sources, bytes, from, count, ws, done, compute);
            long t1 = System.nanoTime();
            tCompute += compute[0];
            tRead += t1 - t0 - compute[0];
            if (writer != null && out.remaining() < count * outSize) {
                out.flip();
                // Read the size before handing the buffer over: once submitted it may be written, returned to the
                // pool and refilled by another thread before this line would run.
                long size = out.limit();
                writer.submit(key, written, out);
                written += size;
                out = writer.take();
            }
            FloatCodec.encode(result, count, outType, out, ws.scratch);
            tWrite += System.nanoTime() - t1;
        }
        t = System.nanoTime();
        out.flip();
        if (writer != null) {
            writer.submit(key, written, out);
        } else {
            sink.write(key, out);
        }
        tWrite += System.nanoTime() - t;
        timer.add(tRead, tCompute, tWrite);
    }

    /** Encodes a whole result and writes it: in buffer-sized parts through {@code writer}, else whole to {@code sink}. */
    static void write(String key, float[] values, DType outType, TensorSink sink, WriteBehind writer, Workspace ws)
            throws IOException, InterruptedException {
        int n = values.length;
        int outSize = outType.byteSize();
        if (writer == null) {
            ByteBuffer out = ByteBuffer.allocate(Math.multiplyExact(n, outSize));
            for (int from = 0; from < n; from += CHUNK) {
                int count = Math.min(CHUNK, n - from);
                System.arraycopy(values, from, ws.chunk, 0, count);
                FloatCodec.encode(ws.chunk, count, outType, out, ws.scratch);
            }
            sink.write(key, out.flip());
            return;
        }
        ByteBuffer out = writer.take();
        long written = 0;
        for (int from = 0; from < n; from += CHUNK) {
            int count = Math.min(CHUNK, n - from);
            if (out.remaining() < count * outSize) {
                out.flip();
                // Read the size before handing the buffer over: once submitted it may be written, returned to the
                // pool and refilled by another thread before this line would run.
                long size = out.limit();
                writer.submit(key, written, out);
                written += size;
                out = writer.take();
            }
            System.arraycopy(values, from, ws.chunk, 0, count);
            FloatCodec.encode(ws.chunk, count, outType, out, ws.scratch);
        }
        writer.submit(key, written, out.flip());
    }

    private static float[] evaluate(Node node, KeyTask task, List<TensorSource> sources, ByteBuffer[] bytes,
                                    long from, int count, Workspace ws, boolean[] done, long[] compute)
            throws IOException {
        float[] target = ws.array(node.slot());
        if (done[node.slot()]) {
            return target;
        }
        if (node instanceof ReadNode read) {
            ByteBuffer b = bytes[read.source()];
            if (b == null) {
                b = sources.get(read.source()).read(task.output().name());
                bytes[read.source()] = b;
            }
            FloatCodec.decode(b, read.dtype(), from, count, target, ws.scratch);
        } else {
            KernelNode k = (KernelNode) node;
            float[][] inputs = new float[k.inputs().size()][];
            for (int i = 0; i < inputs.length; i++) {
                inputs[i] = evaluate(k.inputs().get(i), task, sources, bytes, from, count, ws, done, compute);
            }
            long t = System.nanoTime();
            k.kernel().apply(inputs, target, count);
            compute[0] += System.nanoTime() - t;
        }
        done[node.slot()] = true;
        return target;
    }
}
