package dev.easel.core.format.pytorch;

import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSink;
import dev.easel.api.tensor.WritePlan;
import dev.easel.core.format.AtomicOutputFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Writes {@code torch.save} zip checkpoints that {@code torch.load} (also with {@code weights_only=True}) and
 * AUTOMATIC1111's safe loader read: as a streaming {@link TensorSink} of a flat state dict, or in one go with
 * {@link #save(Path, Object)} for structured objects (A1111 embeddings: nested dicts, strings, ints and tensors).
 *
 * <p>Records are those of torch before 1.12 ({@code data.pkl}, {@code data/N}, {@code version}): no
 * {@code byteorder} record (readers then assume little-endian, which the data is), because AUTOMATIC1111's safe
 * loader refuses zip members outside that list in its older releases.
 *
 * <p>The pickle goes first (the plan fixes every storage key), then each tensor's storage as its own STORED zip
 * entry in arrival order, then {@code version} and the directory on {@link #commit()}; the file is built under a
 * temporary name and renamed into place.
 */
public final class TorchCheckpointWriter implements TensorSink {
    /** A tensor with its bytes, for {@link #save(Path, Object)}. */
    public record Tensor(DType dtype, long[] shape, ByteBuffer data) implements TorchPickler.StoredTensor {
        public Tensor {
            shape = shape.clone();
            long bytes = new TensorInfo("t", dtype, shape).byteSize();
            if (data.remaining() != bytes) {
                throw new IllegalArgumentException("tensor of " + dtype + java.util.Arrays.toString(shape) + " needs "
                        + bytes + " bytes, got " + data.remaining());
            }
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }
    }

    private record Planned(TensorInfo info) implements TorchPickler.StoredTensor {
        @Override
        public DType dtype() {
            return info.dtype();
        }

        @Override
        public long[] shape() {
            return info.shape();
        }
    }

    private final AtomicOutputFile output;
    private final TorchZipWriter zip;
    private final String prefix;
    private final Map<String, String> keyOf;
    private final Map<String, Long> sizeOf;
    private final Set<String> written = new HashSet<>();

    private TorchCheckpointWriter(AtomicOutputFile output, String prefix, Map<String, String> keyOf,
            Map<String, Long> sizeOf) {
        this.output = output;
        this.zip = new TorchZipWriter(output.channel());
        this.prefix = prefix;
        this.keyOf = keyOf;
        this.sizeOf = sizeOf;
    }

    /**
     * Starts writing a flat state dict {@code {name: tensor}} in plan order.
     *
     * @throws IllegalArgumentException if a planned dtype has no torch 1.x storage (float8, unsigned 16-64 bit)
     */
    public static TorchCheckpointWriter create(Path target, WritePlan plan) throws IOException {
        Map<String, Object> dict = new LinkedHashMap<>();
        Map<String, Planned> planned = new HashMap<>();
        Map<String, Long> sizes = new HashMap<>();
        for (TensorInfo t : plan.tensors()) {
            if (!TorchPickler.supports(t.dtype())) {
                throw new IllegalArgumentException(target + ": tensor '" + t.name() + "' is " + t.dtype()
                        + ", which a PyTorch checkpoint cannot hold; write safetensors instead");
            }
            Planned p = new Planned(t);
            dict.put(t.name(), p);
            planned.put(t.name(), p);
            sizes.put(t.name(), t.byteSize());
        }
        TorchPickler pickler = new TorchPickler();
        byte[] pkl = pickler.pickle(dict);
        Map<String, String> keys = new HashMap<>();
        for (int i = 0; i < pickler.tensors().size(); i++) {
            keys.put(((Planned) pickler.tensors().get(i)).info().name(), Integer.toString(i));
        }
        AtomicOutputFile output = AtomicOutputFile.create(target);
        try {
            TorchCheckpointWriter w = new TorchCheckpointWriter(output, archiveName(target), keys, sizes);
            w.zip.add(w.prefix + "data.pkl", ByteBuffer.wrap(pkl));
            return w;
        } catch (IOException | RuntimeException e) {
            output.close();
            throw e;
        }
    }

    /**
     * Saves an object tree (maps, lists, {@link PyTuple}s, strings, numbers, booleans, null and {@link Tensor}s)
     * as {@code torch.save} would, atomically.
     */
    public static void save(Path target, Object root) throws IOException {
        TorchPickler pickler = new TorchPickler();
        byte[] pkl = pickler.pickle(root);
        try (AtomicOutputFile output = AtomicOutputFile.create(target)) {
            TorchZipWriter zip = new TorchZipWriter(output.channel());
            String prefix = archiveName(target);
            zip.add(prefix + "data.pkl", ByteBuffer.wrap(pkl));
            for (int i = 0; i < pickler.tensors().size(); i++) {
                zip.add(prefix + "data/" + i, ((Tensor) pickler.tensors().get(i)).data());
            }
            zip.add(prefix + "version", ByteBuffer.wrap("3\n".getBytes(StandardCharsets.US_ASCII)));
            zip.finish();
            output.commit();
        }
    }

    /** torch names the archive folder after the file's stem; A1111-era readers expect that. */
    private static String archiveName(Path target) {
        String name = target.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String stem = dot > 0 ? name.substring(0, dot) : name;
        StringBuilder b = new StringBuilder();
        for (char c : stem.toCharArray()) {
            b.append(Character.isLetterOrDigit(c) || c == '_' || c == '-' ? c : '_');
        }
        return (b.length() == 0 ? "archive" : b.toString()) + "/";
    }

    @Override
    public synchronized void write(String name, ByteBuffer data) throws IOException {
        String key = keyOf.get(name);
        if (key == null) {
            throw new IllegalArgumentException(output.target() + ": tensor '" + name + "' is not in the write plan");
        }
        if (data.remaining() != sizeOf.get(name)) {
            throw new IllegalArgumentException(output.target() + ": tensor '" + name + "' has " + data.remaining()
                    + " bytes, the plan says " + sizeOf.get(name));
        }
        if (!written.add(name)) {
            throw new IllegalArgumentException(output.target() + ": tensor '" + name + "' was written twice");
        }
        zip.add(prefix + "data/" + key, data);
    }

    @Override
    public synchronized void commit() throws IOException {
        if (written.size() != keyOf.size()) {
            throw new IOException(output.target() + ": " + (keyOf.size() - written.size())
                    + " planned tensor(s) were never written");
        }
        zip.add(prefix + "version", ByteBuffer.wrap("3\n".getBytes(StandardCharsets.US_ASCII)));
        zip.finish();
        output.commit();
    }

    @Override
    public void close() throws IOException {
        output.close();
    }
}
