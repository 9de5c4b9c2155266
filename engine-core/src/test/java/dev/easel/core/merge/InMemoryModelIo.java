package dev.easel.core.merge;

import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSink;
import dev.easel.api.tensor.TensorSource;
import dev.easel.api.tensor.WritePlan;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A {@link ModelIo} over in-memory models: inputs are registered by path (a placeholder file must exist there, as
 * the planner checks), outputs become visible in {@link #outputs} only on commit, like an atomic file writer.
 */
final class InMemoryModelIo implements ModelIo {
    final Map<Path, InMemoryModel> models = new HashMap<>();
    final Map<Path, Written> outputs = new ConcurrentHashMap<>();
    int creates;

    /** A committed output. */
    record Written(WritePlan plan, Map<String, ByteBuffer> tensors) {
        float[] floats(String name) {
            ByteBuffer b = tensors.get(name).duplicate().order(ByteOrder.LITTLE_ENDIAN);
            float[] out = new float[b.remaining() / 4];
            b.asFloatBuffer().get(out);
            return out;
        }

        TensorInfo info(String name) {
            return plan.tensors().stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow();
        }
    }

    InMemoryModel model(Path path) throws IOException {
        Path p = path.toAbsolutePath().normalize();
        if (!Files.exists(p)) {
            Files.createFile(p);
        }
        InMemoryModel m = new InMemoryModel(p);
        models.put(p, m);
        return m;
    }

    @Override
    public TensorSource open(Path path) throws IOException {
        InMemoryModel m = models.get(path.toAbsolutePath().normalize());
        if (m == null) {
            throw new IOException("not a model");
        }
        return m;
    }

    @Override
    public TensorSink create(Path target, WritePlan plan) {
        creates++;
        Map<String, ByteBuffer> written = new ConcurrentHashMap<>();
        return new TensorSink() {
            boolean committed;

            @Override
            public void write(String name, ByteBuffer data) {
                TensorInfo info = plan.tensors().stream().filter(t -> t.name().equals(name)).findFirst()
                        .orElseThrow(() -> new IllegalArgumentException("not planned: " + name));
                if (data.remaining() != info.byteSize()) {
                    throw new IllegalArgumentException(name + ": " + data.remaining() + " bytes, planned "
                            + info.byteSize());
                }
                ByteBuffer copy = ByteBuffer.allocate(data.remaining()).order(ByteOrder.LITTLE_ENDIAN);
                copy.put(data.duplicate()).flip();
                if (written.put(name, copy) != null) {
                    throw new IllegalArgumentException("written twice: " + name);
                }
            }

            @Override
            public void commit() throws IOException {
                if (written.size() != plan.tensors().size()) {
                    throw new IOException("missing tensors");
                }
                committed = true;
                outputs.put(target, new Written(plan, new LinkedHashMap<>(written)));
            }

            @Override
            public void close() {
            }
        };
    }
}
