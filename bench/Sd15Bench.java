import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Benchmark helper, run as a single-file program ({@code java bench/Sd15Bench.java ...}), no dependencies:
 * <ul>
 *   <li>{@code generate KEYS OUT SEED}: writes a full-size synthetic SD 1.5 checkpoint in fp16 (every required
 *       key of the ldm key list, {@code position_ids} as int64 0..76), 2.13 GB, with seed-dependent values, its
 *       tensors in the order Python's {@code safetensors.torch.save_file} stores them (wider dtypes first, then by
 *       name), as in real checkpoints;</li>
 *   <li>{@code plainio OUT IN...}: the plain-I/O baseline: reads every input completely and writes OUT with the
 *       size of the first input, in 8 MiB sequential chunks; prints the seconds taken.</li>
 * </ul>
 */
public final class Sd15Bench {
    public static void main(String[] args) throws IOException {
        if (args.length >= 4 && args[0].equals("generate")) {
            generate(Path.of(args[1]), Path.of(args[2]), Long.parseLong(args[3]));
        } else if (args.length >= 3 && args[0].equals("plainio")) {
            List<Path> in = new ArrayList<>();
            for (int i = 2; i < args.length; i++) {
                in.add(Path.of(args[i]));
            }
            long t0 = System.nanoTime();
            plainIo(Path.of(args[1]), in);
            System.out.printf("%.3f%n", (System.nanoTime() - t0) / 1e9);
        } else {
            System.err.println("usage: Sd15Bench generate KEYS OUT SEED | plainio OUT IN...");
            System.exit(2);
        }
    }

    record Key(String name, long[] shape, String dtype) {
        long elements() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }

        long bytes() {
            return elements() * (dtype.equals("I64") ? 8 : 2);
        }
    }

    static List<Key> keys(Path keyFile) throws IOException {
        List<Key> keys = new ArrayList<>();
        for (String line : Files.readAllLines(keyFile)) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.trim().split("\\s+");
            boolean optional = f.length > 4 && f[4].equals("optional");
            boolean ids = f[0].endsWith("position_ids");
            if (optional && !ids) {
                continue;
            }
            String s = f[1].substring(1, f[1].length() - 1);
            long[] shape = s.isEmpty() ? new long[0]
                    : java.util.Arrays.stream(s.split(",")).mapToLong(Long::parseLong).toArray();
            keys.add(new Key(f[0], shape, ids ? "I64" : "F16"));
        }
        return keys;
    }

    static void generate(Path keyFile, Path out, long seed) throws IOException {
        List<Key> keys = keys(keyFile);
        // the data order of safetensors.torch.save_file (and of Easel's writer): wider dtypes first, then by name
        keys.sort(java.util.Comparator.comparingInt((Key k) -> k.dtype.equals("I64") ? 0 : 1)
                .thenComparing(Key::name));
        StringBuilder h = new StringBuilder("{\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        for (Key k : keys) {
            h.append(",\"").append(k.name).append("\":{\"dtype\":\"").append(k.dtype).append("\",\"shape\":[");
            for (int i = 0; i < k.shape.length; i++) {
                h.append(i == 0 ? "" : ",").append(k.shape[i]);
            }
            h.append("],\"data_offsets\":[").append(offset).append(',').append(offset + k.bytes()).append("]}");
            offset += k.bytes();
        }
        h.append('}');
        while ((h.length() + 8) % 8 != 0) {
            h.append(' ');
        }
        byte[] header = h.toString().getBytes(StandardCharsets.UTF_8);
        Path tmp = out.resolveSibling(out.getFileName() + ".part");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer head = ByteBuffer.allocate(8 + header.length).order(ByteOrder.LITTLE_ENDIAN);
            head.putLong(header.length).put(header).flip();
            while (head.hasRemaining()) {
                ch.write(head);
            }
            ByteBuffer buf = ByteBuffer.allocateDirect(8 << 20).order(ByteOrder.LITTLE_ENDIAN);
            long state = seed * 0x9e3779b97f4a7c15L + 1;
            for (Key k : keys) {
                if (k.dtype.equals("I64")) {
                    flushIfFull(ch, buf, 8);
                    for (long i = 0; i < k.elements(); i++) {
                        flushIfFull(ch, buf, 8);
                        buf.putLong(i % 77);
                    }
                    continue;
                }
                for (long i = 0; i < k.elements(); i++) {
                    flushIfFull(ch, buf, 2);
                    state ^= state << 13;
                    state ^= state >>> 7;
                    state ^= state << 17;
                    // sign, an exponent for magnitudes 2^-12 .. 2^-1, random mantissa: finite weight-like values
                    int bits = (int) state;
                    int exp = 3 + ((bits >>> 10) & 7) + ((bits >>> 13) & 3); // 3..13 -> 2^-12..2^-2
                    short half = (short) ((bits & 0x8000) | (exp << 10) | (bits & 0x3ff));
                    buf.putShort(half);
                }
            }
            buf.flip();
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
        }
        Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        System.out.printf("%s: %d tensors, %.3f GB of tensor data%n", out, keys.size(), offset / 1e9);
    }

    private static void flushIfFull(FileChannel ch, ByteBuffer buf, int need) throws IOException {
        if (buf.remaining() < need) {
            buf.flip();
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            buf.clear();
        }
    }

    static void plainIo(Path out, List<Path> inputs) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(8 << 20);
        List<FileChannel> in = new ArrayList<>();
        try (FileChannel w = FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            for (Path p : inputs) {
                in.add(FileChannel.open(p, StandardOpenOption.READ));
            }
            boolean any = true;
            while (any) {
                any = false;
                for (int i = 0; i < in.size(); i++) {
                    buf.clear();
                    int n = in.get(i).read(buf);
                    if (n <= 0) {
                        continue;
                    }
                    any = true;
                    if (i == 0) {
                        buf.flip();
                        while (buf.hasRemaining()) {
                            w.write(buf);
                        }
                    }
                }
            }
        } finally {
            for (FileChannel c : in) {
                c.close();
            }
        }
    }
}
