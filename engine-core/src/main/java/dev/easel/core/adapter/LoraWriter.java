package dev.easel.core.adapter;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSink;
import dev.easel.api.tensor.WritePlan;
import dev.easel.core.merge.ModelIo;
import dev.easel.core.merge.TensorArrays;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes LoRA modules as kohya saves them ({@code <name>.lora_down.weight}, {@code .lora_up.weight}, a 0-d
 * {@code .alpha} cast to the save type like every other tensor) or as PEFT/diffusers saves them
 * ({@code <path>.lora_A.weight}, {@code .lora_B.weight}, no alpha: the scale is folded into the factors, so that
 * diffusers' default alpha = r gives the same delta). Kohya files get {@code sshs_model_hash}, the sha256 of the data
 * section, which the safetensors layout (one dtype, tensors by name) makes computable before writing.
 */
public final class LoraWriter {
    private LoraWriter() {
    }

    /** One tensor: shape and values. */
    record Tensor(long[] shape, float[] values) {
    }

    /** The kohya tensors of some modules. */
    static Map<String, Tensor> kohyaTensors(List<LoraOutput> modules) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (LoraOutput m : modules) {
            t.put(m.name() + ".lora_down.weight", new Tensor(downShape(m), values(m.down(), 1)));
            t.put(m.name() + ".lora_up.weight", new Tensor(upShape(m), values(m.up(), 1)));
            t.put(m.name() + ".alpha", new Tensor(new long[0], new float[] {(float) m.alpha()}));
        }
        return t;
    }

    /** The PEFT tensors of some modules, named by {@code peftName} (module name to PEFT path). */
    static Map<String, Tensor> peftTensors(List<LoraOutput> modules, java.util.function.Function<String, String> peftName) {
        Map<String, Tensor> t = new LinkedHashMap<>();
        for (LoraOutput m : modules) {
            String path = peftName.apply(m.name());
            double root = Math.sqrt(m.alpha() / m.rank());
            t.put(path + ".lora_A.weight", new Tensor(downShape(m), values(m.down(), root)));
            t.put(path + ".lora_B.weight", new Tensor(upShape(m), values(m.up(), root)));
        }
        return t;
    }

    private static long[] downShape(LoraOutput m) {
        return m.kernel() == null ? new long[] {m.rank(), m.in()}
                : new long[] {m.rank(), m.in(), m.kernel()[0], m.kernel()[1]};
    }

    private static long[] upShape(LoraOutput m) {
        return m.kernel() == null ? new long[] {m.up().numRows, m.rank()} : new long[] {m.up().numRows, m.rank(), 1, 1};
    }

    private static float[] values(org.ejml.data.DMatrixRMaj m, double scale) {
        float[] v = new float[m.getNumElements()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (m.data[i] * scale);
        }
        return v;
    }

    /**
     * Writes a trained adapter as kohya does: every module's tensors (keyed by suffix, as
     * {@code TrainableAdapter.export()} returns them) under {@code <module>.<suffix>}, all cast to {@code dtype},
     * with {@code metadata} (use {@link KohyaMetadata}) plus {@code sshs_model_hash}; atomic.
     *
     * @param modules kohya module name to its tensors by suffix
     */
    public static void writeKohya(ModelIo io, java.nio.file.Path target, Map<String, Map<String, NDArray>> modules,
                                  DType dtype, Map<String, String> metadata, NDManager manager) {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        modules.forEach((module, byKey) -> byKey.forEach((suffix, a) -> tensors.put(module + "." + suffix,
                new Tensor(a.getShape().getShape(), a.toType(ai.djl.ndarray.types.DataType.FLOAT32, false)
                        .toFloatArray()))));
        write(io, target, tensors, dtype, metadata, true, manager);
    }

    /**
     * Writes the tensors atomically in {@code dtype}; with {@code hash} adds {@code sshs_model_hash}.
     */
    static void write(ModelIo io, java.nio.file.Path target, Map<String, Tensor> tensors, DType dtype,
                      Map<String, String> metadata, boolean hash, NDManager manager) {
        Map<String, ByteBuffer> bytes = new TreeMap<>(LoraWriter::compareUtf8);
        List<TensorInfo> infos = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            NDArray a = manager.create(t.values(), new Shape(t.shape()));
            ByteBuffer b = TensorArrays.toBytes(a, dtype);
            ByteBuffer copy = ByteBuffer.allocate(b.remaining());
            copy.put(b.duplicate()).flip();
            bytes.put(e.getKey(), copy);
            infos.add(new TensorInfo(e.getKey(), dtype, t.shape()));
        }
        Map<String, String> md = new TreeMap<>(metadata);
        if (hash) {
            try {
                MessageDigest sha = MessageDigest.getInstance("SHA-256");
                for (ByteBuffer b : bytes.values()) {
                    sha.update(b.duplicate());
                }
                md.put("sshs_model_hash", HexFormat.of().formatHex(sha.digest()));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
        try (TensorSink sink = io.create(target, new WritePlan(infos, md))) {
            for (Map.Entry<String, ByteBuffer> e : bytes.entrySet()) {
                sink.write(e.getKey(), e.getValue().duplicate());
            }
            sink.commit();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    static int compareUtf8(String a, String b) {
        return Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }
}
