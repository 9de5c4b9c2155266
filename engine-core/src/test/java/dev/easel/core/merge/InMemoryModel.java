package dev.easel.core.merge;

import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSource;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;

/** A test {@link TensorSource} held in memory (direct buffers, like a memory-mapped reader hands out). */
final class InMemoryModel implements TensorSource {
    private final Path location;
    private final Map<String, TensorInfo> infos = new LinkedHashMap<>();
    private final Map<String, ByteBuffer> data = new LinkedHashMap<>();
    final Map<String, String> metadata = new LinkedHashMap<>();
    int reads;
    boolean closed;

    InMemoryModel(Path location) {
        this.location = location;
    }

    InMemoryModel put(TensorInfo info, ByteBuffer bytes) {
        if (bytes.remaining() != info.byteSize()) {
            throw new IllegalArgumentException(info + " needs " + info.byteSize() + " bytes");
        }
        ByteBuffer d = ByteBuffer.allocateDirect(bytes.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        d.put(bytes.duplicate()).flip();
        infos.put(info.name(), info);
        data.put(info.name(), d);
        return this;
    }

    InMemoryModel f32(String name, long[] shape, float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        b.flip();
        return put(new TensorInfo(name, DType.F32, shape), b);
    }

    InMemoryModel f32(String name, float... values) {
        return f32(name, new long[] {values.length}, values);
    }

    InMemoryModel i64(String name, long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        b.flip();
        return put(new TensorInfo(name, DType.I64, 1, values.length), b);
    }

    InMemoryModel f16(String name, short... bits) {
        ByteBuffer b = ByteBuffer.allocate(bits.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (short v : bits) {
            b.putShort(v);
        }
        b.flip();
        return put(new TensorInfo(name, DType.F16, bits.length), b);
    }

    @Override
    public Path location() {
        return location;
    }

    @Override
    public String formatId() {
        return "format/in-memory";
    }

    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public List<TensorInfo> tensors() {
        return new ArrayList<>(infos.values());
    }

    @Override
    public Optional<TensorInfo> info(String name) {
        return Optional.ofNullable(infos.get(name));
    }

    @Override
    public synchronized ByteBuffer read(String name) {
        ByteBuffer b = data.get(name);
        if (b == null) {
            throw new NoSuchElementException(name);
        }
        reads++;
        return b.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public void close() {
        closed = true;
    }
}
