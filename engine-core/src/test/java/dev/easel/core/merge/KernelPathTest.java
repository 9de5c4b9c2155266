package dev.easel.core.merge;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSink;
import dev.easel.api.tensor.TensorSource;
import dev.easel.api.tensor.WritePlan;
import dev.easel.core.format.safetensors.SafetensorsReader;
import dev.easel.core.format.safetensors.SafetensorsWriter;
import dev.easel.core.plugin.PluginOrigin;
import dev.easel.core.plugin.PluginRegistry;
import dev.easel.core.runtime.ComputeRuntime;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The element-wise fast path ({@link KernelPlan}, {@link FloatCodec}) against the NDArray path and libtorch's own
 * conversions: same bytes out, for every input and output type, for tensors larger than a chunk and than the
 * staging buffer, on real safetensors files.
 */
class KernelPathTest {
    static ComputeRuntime runtime;
    static PluginRegistry registry;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        runtime = new ComputeRuntime().start();
        registry = new PluginRegistry();
        registry.register(new LerpTestMerge(), new PluginOrigin("test", "1", -1, "test"));
        registry.register(new KernelLerpTestMerge(), new PluginOrigin("test", "1", -1, "test"));
        registry.register(new SeededTensorTestMerge(), new PluginOrigin("test", "1", -1, "test"));
    }

    @AfterAll
    static void stop() {
        runtime.close();
    }

    /** Reads and writes real safetensors files. */
    static class FilesIo implements ModelIo {
        @Override
        public TensorSource open(Path path) throws IOException {
            return SafetensorsReader.open(path);
        }

        @Override
        public TensorSink create(Path target, WritePlan plan) throws IOException {
            return SafetensorsWriter.create(target, plan);
        }
    }

    @Test
    void everyHalfDecodesAsLibtorchDoes() {
        short[] all = new short[1 << 16];
        for (int i = 0; i < all.length; i++) {
            all[i] = (short) i;
        }
        try (NDManager m = runtime.newManager()) {
            ByteBuffer bytes = ByteBuffer.allocateDirect(all.length * 2).order(ByteOrder.nativeOrder());
            bytes.asShortBuffer().put(all);
            float[] torch = m.create(bytes, new ai.djl.ndarray.types.Shape(all.length), DataType.FLOAT16)
                    .toType(DataType.FLOAT32, false).toFloatArray();
            for (int i = 0; i < all.length; i++) {
                float mine = FloatCodec.halfToFloat((short) i);
                assertEquals(Float.isNaN(torch[i]), Float.isNaN(mine), "half " + Integer.toHexString(i));
                if (!Float.isNaN(mine)) {
                    assertEquals(Float.floatToRawIntBits(torch[i]), Float.floatToRawIntBits(mine),
                            "half " + Integer.toHexString(i));
                }
            }
        }
    }

    @Test
    void floatsRoundToHalfAsLibtorchDoes() {
        SplittableRandom random = new SplittableRandom(5);
        List<Float> values = new ArrayList<>();
        for (int i = 0; i < 400_000; i++) {
            values.add(Float.intBitsToFloat(random.nextInt()));
        }
        for (int h = 0; h < (1 << 15); h += 7) {
            // every tie and its neighbours, in the normal and subnormal ranges, both signs
            float lo = FloatCodec.halfToFloat((short) h);
            float hi = FloatCodec.halfToFloat((short) (h + 1));
            float mid = (lo + hi) / 2;
            for (float v : new float[] {mid, Math.nextUp(mid), Math.nextDown(mid), lo}) {
                values.add(v);
                values.add(-v);
            }
        }
        for (float v : new float[] {65504f, 65519.99f, 65520f, 1e10f, Float.POSITIVE_INFINITY, 0x1p-25f,
            Math.nextUp(0x1p-25f), 0x1p-24f, 0x1p-14f, Math.nextDown(0x1p-14f), 0f, -0f}) {
            values.add(v);
            values.add(-v);
        }
        float[] in = new float[values.size()];
        for (int i = 0; i < in.length; i++) {
            in[i] = values.get(i);
        }
        try (NDManager m = runtime.newManager()) {
            ByteBuffer torch = m.create(in).toType(DataType.FLOAT16, false).toByteBuffer(true)
                    .order(ByteOrder.nativeOrder());
            for (int i = 0; i < in.length; i++) {
                short t = torch.getShort(i * 2);
                short mine = FloatCodec.floatToHalf(in[i]);
                if (Float.isNaN(in[i])) {
                    assertTrue((mine & 0x7c00) == 0x7c00 && (mine & 0x3ff) != 0, "NaN stays NaN");
                } else {
                    assertEquals(t, mine, "float " + in[i] + " (" + Integer.toHexString(Float.floatToRawIntBits(in[i]))
                            + ")");
                }
            }
        }
    }

    private static void writeModel(Path file, Map<String, DType> types, Map<String, long[]> shapes, long seed)
            throws IOException {
        List<TensorInfo> infos = new ArrayList<>();
        types.forEach((k, t) -> infos.add(new TensorInfo(k, t, shapes.get(k))));
        SplittableRandom random = new SplittableRandom(seed);
        try (SafetensorsWriter w = SafetensorsWriter.create(file, new WritePlan(infos, Map.of()))) {
            for (TensorInfo t : infos) {
                ByteBuffer b = ByteBuffer.allocate((int) t.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
                for (long i = 0; i < t.elementCount(); i++) {
                    float v = (float) (random.nextGaussian() * 0.05);
                    switch (t.dtype()) {
                        case F32 -> b.putFloat(v);
                        case F16 -> b.putShort(FloatCodec.floatToHalf(v));
                        case BF16 -> b.putShort(FloatCodec.floatToBf16(v));
                        case I64 -> b.putLong(i);
                        default -> throw new IllegalStateException();
                    }
                }
                w.write(t.name(), b.flip());
            }
            w.commit();
        }
    }

    private MergeRequest request(String method, DType out, Path... models) {
        return MergeRequest.of(method, Map.of("alpha", 0.3), List.of(models), dir.resolve(method + out + ".st"))
                .withOutputDType(out);
    }

    @Test
    void kernelPathWritesTheSameBytesAsTheNdArrayPath() throws Exception {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("big", new long[] {1500, 2100});       // 3.15 M elements: many chunks, several staging writes
        shapes.put("odd", new long[] {3, 32769});          // not a multiple of the chunk
        shapes.put("small", new long[] {5});
        shapes.put("scalar", new long[] {});
        shapes.put("ids", new long[] {1, 77});
        Map<String, DType> ta = new LinkedHashMap<>();
        Map<String, DType> tb = new LinkedHashMap<>();
        shapes.keySet().forEach(k -> {
            ta.put(k, DType.F16);
            tb.put(k, DType.F16);
        });
        ta.put("odd", DType.F32);
        tb.put("small", DType.BF16);
        tb.put("scalar", DType.F32);
        ta.put("ids", DType.I64);
        tb.put("ids", DType.I64);
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        writeModel(a, ta, shapes, 1);
        writeModel(b, tb, shapes, 2);
        for (DType out : new DType[] {null, DType.F16, DType.BF16, DType.F32}) {
            MergeExecutor fast = new MergeExecutor(registry, runtime, new FilesIo());
            MergeExecutor slow = new MergeExecutor(registry, runtime, new FilesIo()).useKernels(false);
            MergeResult rf = fast.run(request("test_klerp", out, a, b));
            MergeResult rs = slow.run(request("test_lerp", out, a, b));
            assertEquals(rs.merged(), rf.merged());
            try (SafetensorsReader f = SafetensorsReader.open(rf.output());
                 SafetensorsReader s = SafetensorsReader.open(rs.output())) {
                for (String k : shapes.keySet()) {
                    assertEquals(s.info(k), f.info(k), k);
                    ByteBuffer x = f.read(k);
                    ByteBuffer y = s.read(k);
                    assertEquals(y, x, k + " as " + out);
                }
                if (out == null) {
                    assertEquals(DType.F16, f.info("big").orElseThrow().dtype(), "default: the first model's type");
                    assertEquals(DType.F32, f.info("odd").orElseThrow().dtype(), "default: the first model's type");
                    assertEquals(DType.F16, f.info("small").orElseThrow().dtype());
                }
                assertEquals(DType.I64, f.info("ids").orElseThrow().dtype());
            }
        }
    }

    @Test
    void tensorKernelPathWritesTheSameBytesAsTheNdArrayPathWithTheSameSeeds() throws Exception {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("big", new long[] {3_000_000});
        shapes.put("w1", new long[] {7, 9});
        shapes.put("w2", new long[] {7, 9});
        Map<String, DType> ta = Map.of("big", DType.F16, "w1", DType.BF16, "w2", DType.F32);
        Map<String, DType> tb = Map.of("big", DType.F16, "w1", DType.F16, "w2", DType.F16);
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        writeModel(a, new LinkedHashMap<>(ta), shapes, 7);
        writeModel(b, new LinkedHashMap<>(tb), shapes, 8);
        Path fastOut = dir.resolve("fast.safetensors");
        Path slowOut = dir.resolve("slow.safetensors");
        new MergeExecutor(registry, runtime, new FilesIo()).run(MergeRequest.of("test_seeded", Map.of(),
                List.of(a, b), fastOut).withSeed(99));
        new MergeExecutor(registry, runtime, new FilesIo()).run(MergeRequest.of("test_seeded",
                Map.of("kernel", false), List.of(a, b), slowOut).withSeed(99));
        try (SafetensorsReader f = SafetensorsReader.open(fastOut); SafetensorsReader s = SafetensorsReader.open(slowOut)) {
            for (String k : shapes.keySet()) {
                assertEquals(s.info(k), f.info(k), k);
                assertEquals(s.read(k), f.read(k), k);
            }
        }
    }

    @Test
    void aFailedWriteOnTheWriterThreadFailsTheMergeAndLeavesNoOutput() throws Exception {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("big", new long[] {3_000_000}); // 6 MB of fp16: two staging buffers
        shapes.put("small", new long[] {10});
        Map<String, DType> types = Map.of("big", DType.F16, "small", DType.F16);
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        writeModel(a, types, shapes, 5);
        writeModel(b, types, shapes, 6);
        ModelIo failing = new FilesIo() {
            @Override
            public TensorSink create(Path target, WritePlan plan) throws IOException {
                SafetensorsWriter real = SafetensorsWriter.create(target, plan);
                return new dev.easel.core.format.RangeSink() {
                    @Override
                    public void writeRange(String name, long offset, ByteBuffer data) throws IOException {
                        if (offset > 0) {
                            throw new IOException("disk full (simulated)");
                        }
                        real.writeRange(name, offset, data);
                    }

                    @Override
                    public void write(String name, ByteBuffer data) throws IOException {
                        real.write(name, data);
                    }

                    @Override
                    public void commit() throws IOException {
                        real.commit();
                    }

                    @Override
                    public void close() throws IOException {
                        real.close();
                    }
                };
            }
        };
        Path out = dir.resolve("out.safetensors");
        RuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class,
                () -> new MergeExecutor(registry, runtime, failing).run(MergeRequest.of("test_klerp",
                        Map.of("alpha", 0.5), List.of(a, b), out)));
        assertTrue(e.getMessage().contains("disk full"), e.getMessage());
        try (var files = Files.list(dir)) {
            assertEquals(List.of("a.safetensors", "b.safetensors"),
                    files.map(p -> p.getFileName().toString()).sorted().toList(), "no output, no temporary file");
        }
    }

    @Test
    void aRecipeWithASharedIntermediateTakesTheKernelPath() throws Exception {
        Map<String, long[]> shapes = Map.of("w", new long[] {70_000});
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        writeModel(a, Map.of("w", DType.F16), shapes, 3);
        writeModel(b, Map.of("w", DType.F16), shapes, 4);
        RecipeNode.Model ma = new RecipeNode.Model(a);
        RecipeNode.Model mb = new RecipeNode.Model(b);
        for (String method : List.of("test_klerp", "test_lerp")) {
            RecipeNode.Merge ab = new RecipeNode.Merge(method, Map.of("alpha", 0.25), Map.of(), List.of(ma, mb));
            RecipeNode.Merge root = new RecipeNode.Merge(method, Map.of("alpha", 0.5), Map.of(), List.of(ab, ab));
            new MergeExecutor(registry, runtime, new FilesIo()).run(new MergeRequest(root,
                    dir.resolve(method + ".safetensors"), DType.F32, 0, false, 2, 0));
        }
        try (SafetensorsReader f = SafetensorsReader.open(dir.resolve("test_klerp.safetensors"));
             SafetensorsReader s = SafetensorsReader.open(dir.resolve("test_lerp.safetensors"))) {
            assertEquals(s.read("w"), f.read("w"));
            float[] got = new float[70_000];
            f.read("w").order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(got);
            try (SafetensorsReader ra = SafetensorsReader.open(a); SafetensorsReader rb = SafetensorsReader.open(b)) {
                for (int i = 0; i < got.length; i += 997) {
                    float x = FloatCodec.halfToFloat(ra.read("w").order(ByteOrder.LITTLE_ENDIAN).getShort(i * 2));
                    float y = FloatCodec.halfToFloat(rb.read("w").order(ByteOrder.LITTLE_ENDIAN).getShort(i * 2));
                    assertEquals(x + 0.25f * (y - x), got[i], 1e-6f);
                }
            }
        }
        assertTrue(Files.exists(dir.resolve("test_klerp.safetensors")));
    }
}
