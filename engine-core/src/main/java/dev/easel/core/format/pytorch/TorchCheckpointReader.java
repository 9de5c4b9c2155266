package dev.easel.core.format.pytorch;

import dev.easel.api.format.ModelFormatException;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSource;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;

/**
 * A {@code torch.save} file (zip format, or the legacy pre-1.6 format) opened for lazy reading without executing
 * anything: the pickle is interpreted by {@link RestrictedUnpickler}, storages stay in the file, and each tensor is
 * memory-mapped (or, for a non-contiguous view, gathered) only when read.
 *
 * <p>The tensors are listed flattened: each under its path of dict keys and list/tuple indices joined by
 * {@code .}, with a top-level {@code state_dict} wrapper (Lightning {@code .ckpt} files) unwrapped, so an SD
 * checkpoint lists the same names as its safetensors conversion. Top-level scalars ({@code global_step}, an
 * embedding's {@code name}) are exposed as metadata. The whole object tree stays available through
 * {@link #root()} for readers of structured files (A1111 embeddings and hypernetworks).
 */
public final class TorchCheckpointReader implements TensorSource {
    /** The format id this reader reports. */
    public static final String FORMAT_ID = "format/pytorch";

    /** The pickled object of a legacy file starts with this magic number. */
    static final BigInteger LEGACY_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
    /** data.pkl of real checkpoints is a few MB; anything this large is hostile. */
    private static final long MAX_PICKLE = 1L << 30;
    private static final int MAX_METADATA = 256;
    /** Real checkpoints nest a handful of levels; deeper (or cyclic) structures are refused, not recursed into. */
    private static final int MAX_DEPTH = 64;

    private record StorageData(long position, long length, ByteBuffer heap) {
    }

    private final Path file;
    private final FileChannel channel;
    private final Object root;
    private final boolean bigEndian;
    private final Map<String, StorageData> storages;
    private final Map<String, TorchTensor> tensors;
    private final List<TensorInfo> infos;
    private final Map<String, TensorInfo> infoByName;
    private final Map<String, String> metadata;

    private TorchCheckpointReader(Path file, FileChannel channel, Object root, boolean bigEndian,
            Map<String, StorageData> storages) throws ModelFormatException {
        this.file = file;
        this.channel = channel;
        this.root = root;
        this.bigEndian = bigEndian;
        this.storages = storages;
        Map<String, TorchTensor> flat = new LinkedHashMap<>();
        Map<String, String> meta = new LinkedHashMap<>();
        Object weights = root;
        if (root instanceof Map<?, ?> m && m.get("state_dict") instanceof Map<?, ?> sd) {
            weights = sd;
        }
        flatten(weights, "", flat, 0);
        if (root instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                String text = scalarText(e.getValue());
                if (text != null && meta.size() < MAX_METADATA) {
                    meta.put(keyText(e.getKey(), 0), text);
                }
            }
        }
        List<TensorInfo> list = new ArrayList<>(flat.size());
        Map<String, TensorInfo> byName = new HashMap<>(flat.size() * 2);
        for (Map.Entry<String, TorchTensor> e : flat.entrySet()) {
            TensorInfo info = new TensorInfo(e.getKey(), e.getValue().dtype(), e.getValue().shape());
            list.add(info);
            byName.put(info.name(), info);
        }
        this.tensors = flat;
        this.infos = Collections.unmodifiableList(list);
        this.infoByName = byName;
        this.metadata = Collections.unmodifiableMap(meta);
    }

    /**
     * Opens and checks a file: the pickle is interpreted, every storage it names is located and its size checked
     * against the file.
     *
     * @throws ModelFormatException naming the file and the problem (truncated, corrupt, or a refused global)
     */
    public static TorchCheckpointReader open(Path file) throws IOException {
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new ModelFormatException(file, "no such file");
        } catch (IOException e) {
            throw new ModelFormatException(file, "cannot be opened: " + e.getMessage(), e);
        }
        try {
            ByteBuffer head = channel.size() >= 4 ? ZipDirectory.readAt(channel, 0, 4) : ByteBuffer.allocate(0);
            if (head.remaining() == 4 && head.getInt(0) == 0x04034b50) {
                return openZip(file, channel);
            }
            if (head.remaining() >= 2 && (head.get(0) & 0xff) == 0x80) {
                return openLegacy(file, channel);
            }
            throw new ModelFormatException(file, "not a PyTorch checkpoint (neither a zip nor a pickle)");
        } catch (PickleException e) {
            channel.close();
            throw new ModelFormatException(file, e.getMessage());
        } catch (ModelFormatException e) {
            channel.close();
            throw e;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw new ModelFormatException(file, "cannot be read as a PyTorch checkpoint: " + e, e);
        }
    }

    private static TorchCheckpointReader openZip(Path file, FileChannel channel) throws IOException, PickleException {
        ZipDirectory zip = ZipDirectory.read(file, channel);
        if (zip.entries().isEmpty()) {
            throw new ModelFormatException(file, "empty zip file");
        }
        String first = zip.entries().keySet().iterator().next();
        int slash = first.indexOf('/');
        String prefix = slash < 0 ? "" : first.substring(0, slash + 1);
        ZipDirectory.Entry pkl = zip.entries().get(prefix + "data.pkl");
        if (pkl == null) {
            throw new ModelFormatException(file, "zip file has no " + prefix + "data.pkl: not a torch.save checkpoint"
                    + (zip.entries().containsKey(prefix + "constants.pkl") ? " (a TorchScript archive)" : ""));
        }
        boolean bigEndian = false;
        ZipDirectory.Entry order = zip.entries().get(prefix + "byteorder");
        if (order != null) {
            String text = StandardCharsets.US_ASCII.decode(zip.readAll(order, 16)).toString().trim();
            if (!text.equals("little") && !text.equals("big")) {
                throw new ModelFormatException(file, "unknown byteorder '" + text + "'");
            }
            bigEndian = text.equals("big");
        }
        Map<String, TorchStorage> referenced = new LinkedHashMap<>();
        Object root = RestrictedUnpickler.load(zip.readAll(pkl, MAX_PICKLE), pid -> storage(pid, referenced, 5));
        Map<String, StorageData> data = new HashMap<>();
        for (TorchStorage s : referenced.values()) {
            ZipDirectory.Entry e = zip.entries().get(prefix + "data/" + s.key());
            if (e == null) {
                throw new ModelFormatException(file, "storage " + s.key() + " is missing (record " + prefix + "data/"
                        + s.key() + "): truncated or corrupt checkpoint");
            }
            long need = Math.multiplyExact(s.numel(), s.dtype().byteSize());
            if (e.size() < need) {
                throw new ModelFormatException(file, "storage " + s.key() + " holds " + e.size()
                        + " bytes but the pickle says " + s.numel() + " " + s.dtype() + " elements (" + need
                        + " bytes): truncated or corrupt checkpoint");
            }
            if (e.stored()) {
                data.put(s.key(), new StorageData(zip.dataPosition(e), e.size(), null));
            } else {
                ByteBuffer heap = zip.readAll(e, Integer.MAX_VALUE - 16);
                data.put(s.key(), new StorageData(0, e.size(), heap));
            }
        }
        return new TorchCheckpointReader(file, channel, root, bigEndian, data);
    }

    private static TorchCheckpointReader openLegacy(Path file, FileChannel channel)
            throws IOException, PickleException {
        long length = channel.size();
        ByteBuffer map = channel.map(FileChannel.MapMode.READ_ONLY, 0, Math.min(length, Integer.MAX_VALUE))
                .order(ByteOrder.LITTLE_ENDIAN);
        Object magic = RestrictedUnpickler.load(map, pid -> {
            throw new PickleException("unexpected persistent id");
        });
        if (!(magic instanceof BigInteger b) || !b.equals(LEGACY_MAGIC)) {
            throw new ModelFormatException(file, "a pickle, but not a torch.save checkpoint (no magic number): "
                    + "plain pickles are not read");
        }
        Object protocol = RestrictedUnpickler.load(map, pid -> {
            throw new PickleException("unexpected persistent id");
        });
        if (!Long.valueOf(1001).equals(protocol)) {
            throw new ModelFormatException(file, "unsupported legacy torch protocol " + protocol);
        }
        Object sysInfo = RestrictedUnpickler.load(map, pid -> {
            throw new PickleException("unexpected persistent id");
        });
        boolean bigEndian = sysInfo instanceof Map<?, ?> info && Boolean.FALSE.equals(info.get("little_endian"));
        Map<String, TorchStorage> referenced = new LinkedHashMap<>();
        Object root = RestrictedUnpickler.load(map, pid -> storage(pid, referenced, 6));
        Object keys = RestrictedUnpickler.load(map, pid -> {
            throw new PickleException("unexpected persistent id");
        });
        if (!(keys instanceof List<?> keyList)) {
            throw new ModelFormatException(file, "legacy checkpoint without its storage key list");
        }
        long pos = map.position();
        Map<String, StorageData> data = new HashMap<>();
        for (Object k : keyList) {
            String key = String.valueOf(k);
            TorchStorage s = referenced.get(key);
            if (s == null) {
                throw new ModelFormatException(file, "legacy checkpoint lists storage " + key
                        + " that no tensor uses; cannot size it");
            }
            if (pos + 8 > length) {
                throw new ModelFormatException(file, "truncated legacy checkpoint: storage " + key + " is missing");
            }
            long count = ZipDirectory.readAt(channel, pos, 8).getLong(0);
            if (bigEndian) {
                count = Long.reverseBytes(count);
            }
            long bytes;
            try {
                bytes = Math.multiplyExact(count, s.dtype().byteSize());
            } catch (ArithmeticException e) {
                bytes = -1;
            }
            if (count < 0 || bytes < 0 || pos + 8 + bytes > length) {
                throw new ModelFormatException(file, "truncated legacy checkpoint: storage " + key + " claims "
                        + count + " elements at byte " + pos + " of a " + length + "-byte file");
            }
            if (count < s.numel()) {
                throw new ModelFormatException(file, "storage " + key + " holds " + count
                        + " elements but the pickle says " + s.numel());
            }
            data.put(key, new StorageData(pos + 8, bytes, null));
            pos += 8 + bytes;
        }
        for (String key : referenced.keySet()) {
            if (!data.containsKey(key)) {
                throw new ModelFormatException(file, "legacy checkpoint has no data for storage " + key);
            }
        }
        return new TorchCheckpointReader(file, channel, root, bigEndian, data);
    }

    private static TorchStorage storage(PyTuple pid, Map<String, TorchStorage> seen, int arity)
            throws PickleException {
        if (pid.size() < 5 || !"storage".equals(pid.get(0))) {
            throw new PickleException("persistent id " + pid.items() + " is not a storage reference");
        }
        if (!(pid.get(1) instanceof PyGlobal cls) || !(pid.get(4) instanceof Long numel) || numel < 0) {
            throw new PickleException("malformed storage reference " + pid.items());
        }
        DType dtype = RestrictedUnpickler.storageType(cls.name());
        if (dtype == null) {
            throw new PickleException("unknown storage class " + cls);
        }
        if (arity == 6 && pid.size() > 5 && pid.get(5) != PyNone.NONE) {
            throw new PickleException("storage views of torch before 0.4 are not supported");
        }
        String key = String.valueOf(pid.get(2));
        TorchStorage s = new TorchStorage(key, dtype, numel);
        TorchStorage before = seen.putIfAbsent(key, s);
        if (before != null) {
            if (before.dtype() != dtype || before.numel() != numel) {
                throw new PickleException("storage " + key + " is described two ways");
            }
            return before;
        }
        return s;
    }

    private void flatten(Object node, String path, Map<String, TorchTensor> out, int depth)
            throws ModelFormatException {
        if (depth > MAX_DEPTH) {
            throw new ModelFormatException(file, "the pickled object nests more than " + MAX_DEPTH
                    + " levels deep (or contains itself) at '" + path + "'");
        }
        if (node instanceof TorchTensor t) {
            if (out.put(path, t) != null) {
                throw new ModelFormatException(file, "two tensors flatten to the same name '" + path + "'");
            }
        } else if (node instanceof Map<?, ?> m) {
            for (Map.Entry<?, ?> e : m.entrySet()) {
                flatten(e.getValue(), join(path, keyText(e.getKey(), 0)), out, depth + 1);
            }
        } else if (node instanceof List<?> l) {
            for (int i = 0; i < l.size(); i++) {
                flatten(l.get(i), join(path, Integer.toString(i)), out, depth + 1);
            }
        } else if (node instanceof PyTuple t) {
            for (int i = 0; i < t.size(); i++) {
                flatten(t.get(i), join(path, Integer.toString(i)), out, depth + 1);
            }
        } else if (node instanceof PyObject o && o.type().name().equals("ParameterDict")
                && o.state() instanceof Map<?, ?> state) {
            flatten(state.get("_parameters"), path, out, depth + 1);
        }
    }

    private static String join(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    private static String keyText(Object key, int depth) {
        if (key instanceof PyTuple t && depth < MAX_DEPTH) {
            StringBuilder b = new StringBuilder();
            for (Object o : t.items()) {
                b.append(b.length() == 0 ? "" : ".").append(keyText(o, depth + 1));
            }
            return b.toString();
        }
        if (key instanceof Boolean bool) {
            return bool ? "True" : "False";
        }
        return String.valueOf(key);
    }

    private static String scalarText(Object v) {
        if (v instanceof String || v instanceof Long || v instanceof BigInteger || v instanceof Boolean) {
            return v instanceof Boolean b ? (b ? "True" : "False") : v.toString();
        }
        if (v instanceof Double d) {
            return pythonFloat(d);
        }
        if (v instanceof List<?> l && !l.isEmpty() && l.size() <= 64
                && l.stream().allMatch(x -> x instanceof Long || x instanceof Double || x instanceof String)) {
            StringBuilder b = new StringBuilder("[");
            for (Object x : l) {
                b.append(b.length() == 1 ? "" : ", ").append(x instanceof Double d ? pythonFloat(d)
                        : x instanceof String s ? "'" + s + "'" : x);
            }
            return b.append(']').toString();
        }
        return null;
    }

    private static String pythonFloat(double d) {
        return d == Math.rint(d) && Math.abs(d) < 1e16 ? String.format("%.1f", d) : Double.toString(d);
    }

    /** The whole unpickled object: maps, lists, {@link PyTuple}s, scalars and {@link TorchTensor}s. */
    public Object root() {
        return root;
    }

    /** The flattened tensors by name, as {@link #tensors()} lists them. */
    public Map<String, TorchTensor> torchTensors() {
        return Collections.unmodifiableMap(tensors);
    }

    @Override
    public Path location() {
        return file;
    }

    @Override
    public String formatId() {
        return FORMAT_ID;
    }

    @Override
    public Map<String, String> metadata() {
        return metadata;
    }

    @Override
    public List<TensorInfo> tensors() {
        return infos;
    }

    @Override
    public Optional<TensorInfo> info(String name) {
        return Optional.ofNullable(infoByName.get(name));
    }

    @Override
    public ByteBuffer read(String name) throws IOException {
        TorchTensor t = tensors.get(name);
        if (t == null) {
            throw new NoSuchElementException(file + ": no tensor '" + name + "'");
        }
        return read(t, name);
    }

    /** The bytes of any tensor of {@link #root()}: contiguous, little-endian, positioned at 0. */
    public ByteBuffer read(TorchTensor t) throws IOException {
        return read(t, t.toString());
    }

    private ByteBuffer read(TorchTensor t, String name) throws IOException {
        StorageData s = storages.get(t.storage().key());
        int esz = t.dtype().byteSize();
        long bytes = t.elementCount() * esz;
        if (bytes == 0) {
            return ByteBuffer.allocate(0).order(ByteOrder.LITTLE_ENDIAN);
        }
        if (bytes > Integer.MAX_VALUE) {
            throw new ModelFormatException(file, "tensor '" + name + "' is " + bytes
                    + " bytes, more than one buffer can hold (2 GB)");
        }
        ByteBuffer out;
        if (t.isContiguous()) {
            out = region(s, t.offset() * esz, bytes, name);
            if (bigEndian) {
                out = swapped(out, esz);
            }
        } else {
            // A view with zero strides can be larger than its storage; bound what we allocate by the storage.
            if (bytes > 16 * s.length() + (1 << 20)) {
                throw new ModelFormatException(file, "tensor '" + name + "' is a view of " + bytes
                        + " bytes over a storage of " + s.length() + "; refusing to expand it");
            }
            long extentBytes = t.storageExtent() * esz;
            ByteBuffer src = region(s, t.offset() * esz, extentBytes - t.offset() * esz, name);
            if (bigEndian) {
                src = swapped(src, esz);
            }
            out = gather(t, src, esz, (int) bytes);
        }
        return out.order(ByteOrder.LITTLE_ENDIAN);
    }

    private ByteBuffer region(StorageData s, long offset, long bytes, String name) throws IOException {
        if (offset + bytes > s.length()) {
            throw new ModelFormatException(file, "tensor '" + name + "' reads past the end of its storage");
        }
        if (s.heap() != null) {
            return s.heap().duplicate().position((int) offset).limit((int) (offset + bytes)).slice()
                    .order(ByteOrder.LITTLE_ENDIAN);
        }
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, s.position() + offset, bytes)
                    .order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new ModelFormatException(file, "tensor '" + name + "' cannot be read: " + e.getMessage(), e);
        }
    }

    private static ByteBuffer swapped(ByteBuffer src, int esz) {
        ByteBuffer out = ByteBuffer.allocate(src.remaining());
        for (int i = 0; i < src.remaining(); i += esz) {
            for (int j = 0; j < esz; j++) {
                out.put(i + j, src.get(i + esz - 1 - j));
            }
        }
        return out;
    }

    /** Copies a strided view (strides relative to {@code src}, which starts at the view's offset) to row-major. */
    private static ByteBuffer gather(TorchTensor t, ByteBuffer src, int esz, int bytes) {
        long[] shape = t.shape();
        long[] stride = t.stride();
        int rank = shape.length;
        ByteBuffer out = ByteBuffer.allocate(bytes);
        long[] index = new long[rank];
        long n = t.elementCount();
        int o = 0;
        for (long i = 0; i < n; i++) {
            long e = 0;
            for (int d = 0; d < rank; d++) {
                e += index[d] * stride[d];
            }
            int from = (int) (e * esz);
            for (int j = 0; j < esz; j++) {
                out.put(o++, src.get(from + j));
            }
            for (int d = rank - 1; d >= 0; d--) {
                if (++index[d] < shape[d]) {
                    break;
                }
                index[d] = 0;
            }
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
