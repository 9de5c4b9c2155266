package dev.easel.core.format.safetensors;

import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.WritePlan;
import dev.easel.core.format.AtomicOutputFile;
import dev.easel.core.format.RangeSink;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

/**
 * Writes a safetensors file as a stream: the header goes out first (the {@link WritePlan} fixes every offset),
 * then each tensor is written at its place by a positional write, in whatever order and from whichever threads
 * the caller produces them. The file is built beside the target under a temporary name and renamed over it on
 * {@link #commit()}; {@link #close()} without commit deletes it.
 *
 * <p>The layout is the reference writer's (see {@link SafetensorsLayout}), so a file Easel writes is
 * byte-identical to what Python's {@code safetensors.torch.save_file} writes for the same tensors and metadata
 * (with at most one metadata key; the reference orders several keys randomly).
 *
 * <p>A tensor may also arrive in parts ({@link #writeRange}), each written at its place as it comes, so that a
 * producer streaming a large tensor never holds all of it.
 */
public final class SafetensorsWriter implements RangeSink {
    /**
     * Heap buffers are written in slices of this size: the JDK copies a heap buffer into a per-thread direct buffer
     * as large as the write and keeps it, so unsliced writes would pin one largest-tensor-sized native buffer per
     * writing thread.
     */
    private static final int HEAP_WRITE_SLICE = 8 << 20;

    private final AtomicOutputFile output;
    private final SafetensorsLayout layout;
    private final Set<String> written = ConcurrentHashMap.newKeySet();
    private final Map<String, AtomicLong> partial = new ConcurrentHashMap<>();
    private final long dataStart;

    private SafetensorsWriter(AtomicOutputFile output, SafetensorsLayout layout) {
        this.output = output;
        this.layout = layout;
        this.dataStart = 8 + layout.headerLength();
    }

    /**
     * Starts writing {@code target}: creates the temporary file beside it and writes the header.
     *
     * @throws IOException if the folder is not writable
     */
    public static SafetensorsWriter create(Path target, WritePlan plan) throws IOException {
        SafetensorsLayout layout = SafetensorsLayout.of(plan);
        AtomicOutputFile output = AtomicOutputFile.create(target);
        try {
            ByteBuffer head = ByteBuffer.allocate(8 + (int) layout.headerLength()).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(layout.headerLength()).put(layout.header()).flip();
            writeFully(output.channel(), head, 0);
            return new SafetensorsWriter(output, layout);
        } catch (IOException | RuntimeException e) {
            output.close();
            throw e;
        }
    }

    @Override
    public void write(String name, ByteBuffer data) throws IOException {
        SafetensorsLayout.Slot slot = layout.slot(name);
        if (slot == null) {
            throw new IllegalArgumentException(output.target() + ": tensor '" + name + "' is not in the write plan");
        }
        if (data.remaining() != slot.size()) {
            throw new IllegalArgumentException(output.target() + ": tensor '" + name + "' has " + data.remaining()
                    + " bytes, the plan says " + slot.size() + " (" + slot.info() + ")");
        }
        if (partial.containsKey(name) || !written.add(name)) {
            throw new IllegalArgumentException(output.target() + ": tensor '" + name + "' was written twice");
        }
        try {
            ByteBuffer src = data.duplicate();
            long position = dataStart + slot.begin();
            if (src.isDirect()) {
                writeFully(output.channel(), src, position);
            } else {
                while (src.hasRemaining()) {
                    int n = Math.min(src.remaining(), HEAP_WRITE_SLICE);
                    ByteBuffer slice = src.slice();
                    slice.limit(n);
                    writeFully(output.channel(), slice, position);
                    position += n;
                    src.position(src.position() + n);
                }
            }
        } catch (IOException | RuntimeException e) {
            written.remove(name);
            throw e;
        }
    }

    /** The planned tensors in file order (by offset); writing them in this order makes the output sequential. */
    public List<TensorInfo> fileOrder() {
        return layout.slots().stream().map(SafetensorsLayout.Slot::info).collect(Collectors.toList());
    }

    /**
     * Writes bytes {@code [offset, offset + part.remaining())} of a planned tensor, for producers that stream a
     * large tensor in chunks; the tensor counts as written once all its bytes arrived. Parts must not overlap.
     *
     * @throws IllegalArgumentException if the tensor is not planned or the part runs past its end
     */
    public void writePart(String name, long offset, ByteBuffer part) throws IOException {
        writeRange(name, offset, part);
    }

    @Override
    public void writeRange(String name, long offset, ByteBuffer data) throws IOException {
        SafetensorsLayout.Slot slot = layout.slot(name);
        if (slot == null) {
            throw new IllegalArgumentException(output.target() + ": tensor '" + name + "' is not in the write plan");
        }
        int n = data.remaining();
        if (offset < 0 || offset + n > slot.size()) {
            throw new IllegalArgumentException(output.target() + ": bytes [" + offset + ", " + (offset + n)
                    + ") do not fit tensor '" + name + "' of " + slot.size() + " bytes");
        }
        if (written.contains(name) && !partial.containsKey(name)) {
            throw new IllegalArgumentException(output.target() + ": tensor '" + name + "' was written twice");
        }
        writeFully(output.channel(), data.duplicate(), dataStart + slot.begin() + offset);
        long done = partial.computeIfAbsent(name, k -> new AtomicLong()).addAndGet(n);
        if (done > slot.size()) {
            throw new IllegalArgumentException(output.target() + ": tensor '" + name + "' got " + done
                    + " bytes, the plan says " + slot.size());
        }
        if (done == slot.size()) {
            written.add(name);
        }
    }

    @Override
    public void commit() throws IOException {
        if (written.size() != layout.slots().size()) {
            List<String> missing = layout.slots().stream().map(s -> s.info().name())
                    .filter(n -> !written.contains(n)).limit(5).collect(Collectors.toList());
            throw new IOException(output.target() + ": " + (layout.slots().size() - written.size())
                    + " planned tensor(s) were never written, for example " + missing);
        }
        output.commit();
    }

    @Override
    public void close() throws IOException {
        output.close();
    }

    private static void writeFully(FileChannel channel, ByteBuffer src, long position) throws IOException {
        long pos = position;
        while (src.hasRemaining()) {
            pos += channel.write(src, pos);
        }
    }
}
