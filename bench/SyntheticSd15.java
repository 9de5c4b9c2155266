import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSink;
import dev.easel.api.tensor.WritePlan;
import dev.easel.core.format.pytorch.TorchCheckpointWriter;
import dev.easel.core.format.safetensors.SafetensorsWriter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes a synthetic full-size SD 1.5 checkpoint in the real key layout (engine-core's copy of sd-mecha's
 * sd1-ldm key list) with pseudo-random fp32 values: 1,066 M parameters, 4.27 GB without the EMA copy.
 *
 * <p>Usage (single-file source launch, classpath = the distribution's lib/):
 * {@code java -cp 'distribution/target/easel/lib/*' bench/SyntheticSd15.java KEYS OUT [--ema]}; OUT ending in
 * {@code .ckpt} writes a torch zip checkpoint, anything else safetensors.
 */
public final class SyntheticSd15 {
    public static void main(String[] args) throws IOException {
        Path keys = Path.of(args[0]);
        Path out = Path.of(args[1]);
        boolean ema = args.length > 2 && args[2].equals("--ema");
        List<TensorInfo> tensors = new ArrayList<>();
        for (String line : Files.readAllLines(keys)) {
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            String[] f = line.split(" ");
            if (!ema && f[0].startsWith("model_ema.")) {
                continue;
            }
            String dims = f[1].substring(1, f[1].length() - 1);
            long[] shape = dims.isEmpty() ? new long[0]
                    : java.util.Arrays.stream(dims.split(",")).mapToLong(Long::parseLong).toArray();
            DType dtype = f[2].equals("int64") ? DType.I64 : f[2].equals("int32") ? DType.I32 : DType.F32;
            tensors.add(new TensorInfo(f[0], dtype, shape));
        }
        WritePlan plan = new WritePlan(tensors, Map.of());
        long seed = 0x9E3779B97F4A7C15L;
        long bytes = 0;
        if (out.toString().endsWith(".ckpt")) {
            try (TensorSink sink = TorchCheckpointWriter.create(out, plan)) {
                for (TensorInfo t : tensors) {
                    ByteBuffer b = ByteBuffer.allocateDirect((int) t.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
                    seed = fill(b, t.dtype(), seed);
                    sink.write(t.name(), b.flip());
                    bytes += t.byteSize();
                }
                sink.commit();
            }
        } else {
            ByteBuffer chunk = ByteBuffer.allocateDirect(8 << 20).order(ByteOrder.LITTLE_ENDIAN);
            try (SafetensorsWriter sink = SafetensorsWriter.create(out, plan)) {
                for (TensorInfo t : sink.fileOrder()) {
                    long size = t.byteSize();
                    if (size == 0) {
                        sink.write(t.name(), ByteBuffer.allocate(0));
                    }
                    for (long off = 0; off < size; off += chunk.capacity()) {
                        chunk.clear().limit((int) Math.min(chunk.capacity(), size - off));
                        seed = fill(chunk, t.dtype(), seed);
                        sink.writePart(t.name(), off, chunk.flip());
                    }
                    bytes += size;
                }
                sink.commit();
            }
        }
        System.out.printf("wrote %s: %d tensors, %d bytes of data%n", out, tensors.size(), bytes);
    }

    /** Fills the buffer with xorshift values: floats in about [-0.5, 0.5) (all fp16-representable ranges), ints 0.. */
    private static long fill(ByteBuffer b, DType dtype, long seed) {
        long s = seed;
        if (dtype == DType.F32) {
            while (b.remaining() >= 4) {
                s ^= s << 13;
                s ^= s >>> 7;
                s ^= s << 17;
                b.putFloat(((s >>> 40) - (1 << 23)) * 0x1p-24f);
            }
        } else {
            long i = 0;
            while (b.remaining() >= dtype.byteSize()) {
                if (dtype == DType.I64) {
                    b.putLong(i++);
                } else {
                    b.putInt((int) i++);
                }
            }
        }
        return s;
    }
}
