package dev.easel.core.convert;

import dev.easel.api.format.ModelFormatException;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSink;
import dev.easel.api.tensor.TensorSource;
import dev.easel.api.tensor.WritePlan;
import dev.easel.core.format.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Executes {@link TensorRecipe}s against a source and writes the results.
 *
 * <p>The safetensors path is built for speed with flat memory: tensors are produced in the output file's order so
 * the file is written sequentially, straight from the (memory-mapped) input into a few reusable direct buffers
 * (cast on the way): a sequencer thread cuts the output into chunks in file order, up to two pool threads read
 * and convert chunks in parallel, and the calling thread writes finished chunks in order. Anonymous memory stays at a few chunk buffers whatever the model size; the input's pages are the
 * file's own (page cache), not the process's.
 */
public final class RecipeWriter {
    /** Output bytes per chunk buffer. */
    static final int CHUNK_BYTES = 8 << 20;

    /** One chunk of output: where it goes, and its bytes once converted. */
    private record Job(String name, long offset, Future<ByteBuffer> data, Throwable error) {
    }

    private static final Job END = new Job(null, 0, null, null);

    private RecipeWriter() {
    }

    /** The write plan of some recipes. */
    public static WritePlan plan(List<TensorRecipe> recipes, Map<String, String> metadata) {
        return new WritePlan(recipes.stream().map(TensorRecipe::out).toList(), metadata);
    }

    /** Writes the recipes to a safetensors file at {@code target}, atomically. */
    public static void writeSafetensors(TensorSource source, List<TensorRecipe> recipes, Map<String, String> metadata,
            Path target) throws IOException {
        Map<String, TensorRecipe> byName = new HashMap<>(recipes.size() * 2);
        for (TensorRecipe r : recipes) {
            byName.put(r.out().name(), r);
        }
        int converters = Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors()));
        ExecutorService pool = Executors.newFixedThreadPool(converters, task -> {
            Thread t = new Thread(task, "easel-convert");
            t.setDaemon(true);
            return t;
        });
        try (SafetensorsWriter writer = SafetensorsWriter.create(target, plan(recipes, metadata))) {
            List<TensorInfo> order = writer.fileOrder();
            int buffers = converters + 2;
            BlockingQueue<ByteBuffer> free = new ArrayBlockingQueue<>(buffers);
            BlockingQueue<Job> full = new ArrayBlockingQueue<>(buffers + 1);
            for (int i = 0; i < buffers; i++) {
                free.add(ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN));
            }
            Thread sequencer = new Thread(() -> {
                try {
                    for (TensorInfo t : order) {
                        produce(source, byName.get(t.name()), free, full, pool);
                    }
                    full.put(END);
                } catch (Throwable e) {
                    try {
                        full.put(new Job(null, 0, null, e));
                    } catch (InterruptedException ignored) {
                        Thread.currentThread().interrupt();
                    }
                }
            }, "easel-convert-reader");
            sequencer.setDaemon(true);
            sequencer.start();
            try {
                while (true) {
                    Job job = full.take();
                    if (job == END) {
                        break;
                    }
                    if (job.error() != null) {
                        throw asIOException(source, job.error());
                    }
                    ByteBuffer data;
                    try {
                        data = job.data().get();
                    } catch (ExecutionException e) {
                        throw asIOException(source, e.getCause());
                    }
                    if (data.remaining() == 0) {
                        writer.write(job.name(), data);
                    } else {
                        writer.writePart(job.name(), job.offset(), data);
                    }
                    if (data.isDirect()) {
                        data.clear();
                        free.put(data);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            } finally {
                sequencer.interrupt();
            }
            writer.commit();
        } finally {
            pool.shutdownNow();
        }
    }

    private static IOException asIOException(TensorSource source, Throwable e) {
        return e instanceof IOException io ? io : new IOException(source.location() + ": " + e.getMessage(), e);
    }

    /** Queues the chunks of one output tensor, in order; conversion of each runs on the pool. */
    private static void produce(TensorSource source, TensorRecipe r, BlockingQueue<ByteBuffer> free,
            BlockingQueue<Job> full, ExecutorService pool) throws IOException, InterruptedException {
        String name = r.out().name();
        if (r.out().byteSize() == 0) {
            full.put(new Job(name, 0, CompletableFuture.completedFuture(ByteBuffer.allocate(0)), null));
            return;
        }
        if (r.transpose()) {
            ByteBuffer whole = materialize(source, r);
            long offset = 0;
            while (whole.hasRemaining()) {
                ByteBuffer buf = free.take();
                int n = Math.min(buf.remaining(), whole.remaining());
                buf.put(whole.slice().limit(n)).flip();
                whole.position(whole.position() + n);
                full.put(new Job(name, offset, CompletableFuture.completedFuture(buf), null));
                offset += n;
            }
            return;
        }
        int inSize = r.sourceType().byteSize();
        int outSize = r.out().dtype().byteSize();
        DType from = r.sourceType();
        DType to = r.out().dtype();
        long outOffset = 0;
        for (TensorRecipe.Part part : r.parts()) {
            ByteBuffer src = slice(source, part);
            while (src.hasRemaining()) {
                ByteBuffer buf = free.take();
                int elements = Math.min(src.remaining() / inSize, buf.capacity() / outSize);
                ByteBuffer in = src.slice().limit(elements * inSize);
                src.position(src.position() + elements * inSize);
                Future<ByteBuffer> done = pool.submit(() -> {
                    FloatConversion.convert(in, from, buf, to);
                    return buf.flip();
                });
                full.put(new Job(name, outOffset, done, null));
                outOffset += (long) elements * outSize;
            }
        }
    }

    private static ByteBuffer slice(TensorSource source, TensorRecipe.Part part) throws IOException {
        ByteBuffer whole = source.read(part.source());
        if (part.offset() + part.length() > whole.remaining()) {
            throw new ModelFormatException(source.location(), "tensor '" + part.source() + "' is shorter than expected");
        }
        return whole.duplicate().position((int) part.offset()).limit((int) (part.offset() + part.length())).slice()
                .order(ByteOrder.LITTLE_ENDIAN);
    }

    /** One recipe's output bytes on the heap (for small tensors, transposes and non-streaming sinks). */
    public static ByteBuffer materialize(TensorSource source, TensorRecipe r) throws IOException {
        ByteBuffer assembled = ByteBuffer.allocate(Math.toIntExact(r.sourceBytes())).order(ByteOrder.LITTLE_ENDIAN);
        for (TensorRecipe.Part part : r.parts()) {
            assembled.put(slice(source, part));
        }
        assembled.flip();
        if (r.transpose()) {
            int esz = r.sourceType().byteSize();
            long[] shape = r.out().shape(); // transposed shape [cols, rows] of the source [rows, cols]
            int rows = (int) shape[1];
            int cols = (int) shape[0];
            ByteBuffer t = ByteBuffer.allocate(assembled.remaining()).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    for (int b = 0; b < esz; b++) {
                        t.put((j * rows + i) * esz + b, assembled.get((i * cols + j) * esz + b));
                    }
                }
            }
            assembled = t;
        }
        if (r.sourceType() == r.out().dtype()) {
            return assembled;
        }
        return FloatConversion.convert(assembled, r.sourceType(), r.out().dtype());
    }

    /** Writes the recipes through any sink (formats without a streaming fast path), one tensor at a time. */
    public static void writeTo(TensorSource source, List<TensorRecipe> recipes, TensorSink sink) throws IOException {
        for (TensorRecipe r : recipes) {
            sink.write(r.out().name(), materialize(source, r));
        }
        sink.commit();
    }

    /** Whether a dtype is cast by {@code --dtype} (floating types Easel converts); others are copied as they are. */
    static boolean castable(DType t) {
        return FloatConversion.supports(t, DType.F32);
    }
}
