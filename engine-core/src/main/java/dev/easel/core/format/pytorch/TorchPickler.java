package dev.easel.core.format.pytorch;

import dev.easel.api.tensor.DType;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the {@code data.pkl} of a {@code torch.save} zip: protocol 2, only the opcodes and globals
 * {@code torch.load(weights_only=True)} accepts ({@code torch._utils._rebuild_tensor_v2}, storage classes,
 * {@code collections.OrderedDict}), so every torch since 1.6 and AUTOMATIC1111's safe loader read the result.
 *
 * <p>Values: {@code Map} (a dict; keys strings or integers), {@code List}, {@link PyTuple}, {@code String},
 * {@code Integer}/{@code Long}/{@code BigInteger}, {@code Float}/{@code Double}, {@code Boolean}, {@code null} or
 * {@link PyNone} and {@link StoredTensor}; each distinct {@link StoredTensor} gets its own storage, keyed
 * {@code "0"}, {@code "1"}, ... in the order first met.
 */
final class TorchPickler {
    /** A tensor to be saved: its type, shape and where its bytes come from. */
    interface StoredTensor {
        DType dtype();

        long[] shape();
    }

    private static final Map<DType, String> STORAGE_CLASS = Map.of(
            DType.F64, "DoubleStorage", DType.F32, "FloatStorage", DType.F16, "HalfStorage",
            DType.BF16, "BFloat16Storage", DType.I64, "LongStorage", DType.I32, "IntStorage",
            DType.I16, "ShortStorage", DType.I8, "CharStorage", DType.U8, "ByteStorage", DType.BOOL, "BoolStorage");

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final Map<StoredTensor, String> keys = new IdentityHashMap<>();
    private final List<StoredTensor> order = new ArrayList<>();

    /** Whether torch has a classic storage class for this dtype (the others need torch 2.1's v3 tensors). */
    static boolean supports(DType dtype) {
        return STORAGE_CLASS.containsKey(dtype);
    }

    /** Pickles {@code root}; returns the bytes, and fills {@link #tensors()} in storage-key order. */
    byte[] pickle(Object root) {
        out.write(0x80);
        out.write(2);
        write(root);
        out.write('.');
        return out.toByteArray();
    }

    /** The tensors in storage-key order ({@code data/0}, {@code data/1}, ...). */
    List<StoredTensor> tensors() {
        return order;
    }

    private void write(Object o) {
        if (o == null || o == PyNone.NONE) {
            out.write('N');
        } else if (o instanceof Boolean b) {
            out.write(b ? 0x88 : 0x89);
        } else if (o instanceof Integer || o instanceof Long) {
            writeInt(((Number) o).longValue());
        } else if (o instanceof BigInteger big) {
            writeLong1(big);
        } else if (o instanceof Float || o instanceof Double) {
            out.write('G');
            long bits = Double.doubleToLongBits(((Number) o).doubleValue());
            for (int i = 7; i >= 0; i--) {
                out.write((int) (bits >>> (8 * i)));
            }
        } else if (o instanceof String s) {
            byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
            out.write('X');
            writeU32(utf8.length);
            out.writeBytes(utf8);
        } else if (o instanceof StoredTensor t) {
            writeTensor(t);
        } else if (o instanceof Map<?, ?> m) {
            out.write('}');
            List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
            for (int start = 0; start < entries.size(); start += 1000) {
                out.write('(');
                for (Map.Entry<?, ?> e : entries.subList(start, Math.min(entries.size(), start + 1000))) {
                    if (!(e.getKey() instanceof String || e.getKey() instanceof Integer || e.getKey() instanceof Long)) {
                        throw new IllegalArgumentException("dict keys must be strings or integers: " + e.getKey());
                    }
                    write(e.getKey());
                    write(e.getValue());
                }
                out.write('u');
            }
        } else if (o instanceof List<?> l) {
            out.write(']');
            if (!l.isEmpty()) {
                out.write('(');
                for (Object x : l) {
                    write(x);
                }
                out.write('e');
            }
        } else if (o instanceof PyTuple t) {
            writeTuple(t.items());
        } else {
            throw new IllegalArgumentException("cannot pickle a " + o.getClass().getName());
        }
    }

    private void writeTuple(List<?> items) {
        switch (items.size()) {
            case 0 -> out.write(')');
            case 1, 2, 3 -> {
                for (Object x : items) {
                    write(x);
                }
                out.write(0x84 + items.size());
            }
            default -> {
                out.write('(');
                for (Object x : items) {
                    write(x);
                }
                out.write('t');
            }
        }
    }

    private void writeTensor(StoredTensor t) {
        String storageClass = STORAGE_CLASS.get(t.dtype());
        if (storageClass == null) {
            throw new IllegalArgumentException(t.dtype() + " tensors cannot be saved in a .pt/.ckpt file readable by "
                    + "torch 1.x; use safetensors");
        }
        String key = keys.get(t);
        if (key == null) {
            key = Integer.toString(order.size());
            keys.put(t, key);
            order.add(t);
        }
        long[] shape = t.shape();
        long numel = 1;
        for (long d : shape) {
            numel = Math.multiplyExact(numel, d);
        }
        long[] stride = new long[shape.length];
        long s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            stride[i] = s;
            s *= Math.max(1, shape[i]);
        }
        global("torch._utils", "_rebuild_tensor_v2");
        out.write('(');
        out.write('(');
        write("storage");
        global("torch", storageClass);
        write(key);
        write("cpu");
        writeInt(numel);
        out.write('t');
        out.write('Q');
        writeInt(0);
        writeTuple(longs(shape));
        writeTuple(longs(stride));
        out.write(0x89);
        global("collections", "OrderedDict");
        out.write(')');
        out.write('R');
        out.write('t');
        out.write('R');
    }

    private static List<Object> longs(long[] values) {
        List<Object> l = new ArrayList<>(values.length);
        for (long v : values) {
            l.add(v);
        }
        return l;
    }

    private void global(String module, String name) {
        out.write('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    private void writeInt(long v) {
        if (v >= 0 && v < 256) {
            out.write('K');
            out.write((int) v);
        } else if (v >= 0 && v < 65536) {
            out.write('M');
            out.write((int) v);
            out.write((int) (v >>> 8));
        } else if (v >= Integer.MIN_VALUE && v <= Integer.MAX_VALUE) {
            out.write('J');
            writeU32((int) v);
        } else {
            writeLong1(BigInteger.valueOf(v));
        }
    }

    private void writeLong1(BigInteger v) {
        byte[] be = v.toByteArray();
        out.write(0x8a);
        out.write(be.length);
        for (int i = be.length - 1; i >= 0; i--) {
            out.write(be[i]);
        }
    }

    private void writeU32(int v) {
        out.write(v);
        out.write(v >>> 8);
        out.write(v >>> 16);
        out.write(v >>> 24);
    }
}
