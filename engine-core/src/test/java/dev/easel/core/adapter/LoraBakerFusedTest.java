package dev.easel.core.adapter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.ParameterValues;
import dev.easel.api.PluginDescriptor;
import dev.easel.api.adapter.AdapterModule;
import dev.easel.api.adapter.AdapterType;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.api.tensor.TensorSink;
import dev.easel.api.tensor.TensorSource;
import dev.easel.api.tensor.WritePlan;
import dev.easel.core.format.safetensors.SafetensorsReader;
import dev.easel.core.format.safetensors.SafetensorsWriter;
import dev.easel.core.merge.ModelIo;
import dev.easel.core.runtime.ComputeRuntime;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bake's fused path (one low-rank product per row block, fp16 in and out) against the straightforward
 * computation: widen the whole weight, add every module's {@code up·down} in double precision, round once to fp16.
 * Tensors are tiny but the blocks are made tinier, so that keys span many blocks, a block holds a single row of a
 * conv weight wider than the block, blocks straddle the write-behind buffers, and one key takes two adapters (factors
 * concatenated into one product).
 */
class LoraBakerFusedTest {
    static final String UNET = "model.diffusion_model.";
    static final String Q = UNET + "input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight";
    static final String CONV = UNET + "input_blocks.1.0.in_layers.2.weight";
    static final String UNTOUCHED = UNET + "input_blocks.1.0.in_layers.2.bias";
    static final String Q_MODULE = "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q";
    static final String CONV_MODULE = "lora_unet_down_blocks_0_resnets_0_conv1";

    static ComputeRuntime runtime;
    static int savedBlock;
    static int savedStaging;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        runtime = new ComputeRuntime().start();
        savedBlock = LoraBaker.blockElements;
        savedStaging = LoraBaker.stagingBytes;
    }

    @AfterAll
    static void stop() {
        runtime.close();
    }

    @AfterEach
    void restore() {
        LoraBaker.blockElements = savedBlock;
        LoraBaker.stagingBytes = savedStaging;
    }

    /** A plain product {@code W + m·up·down} (no alpha), offering its factors only when {@code fused}. */
    record ProductType(boolean fused) implements AdapterType {
        @Override
        public PluginDescriptor descriptor() {
            return PluginDescriptor.of("test/product", "1.0.0", "up·down");
        }

        @Override
        public Optional<AdapterModule> recognize(String prefix, Map<String, TensorInfo> tensors) {
            TensorInfo down = tensors.get("lora_down.weight");
            return down == null || !tensors.containsKey("lora_up.weight") ? Optional.empty()
                    : Optional.of(new AdapterModule(prefix, tensors, (int) down.dim(0), null, "test"));
        }

        @Override
        public NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight,
                             NDManager manager) {
            return delta(module, tensors, baseWeight, 1.0, null, manager);
        }

        @Override
        public NDArray delta(AdapterModule module, Map<String, NDArray> tensors, NDArray baseWeight, double strength,
                             ParameterValues parameters, NDManager manager) {
            NDArray[] f = factors(tensors, strength);
            return f[0].matMul(f[1]).reshape(baseWeight.getShape());
        }

        @Override
        public NDArray[] lowRankFactors(AdapterModule module, Map<String, NDArray> tensors, double strength,
                                        ParameterValues parameters, NDManager manager) {
            return fused ? factors(tensors, strength) : null;
        }

        private static NDArray[] factors(Map<String, NDArray> tensors, double strength) {
            NDArray up = tensors.get("lora_up.weight");
            NDArray down = tensors.get("lora_down.weight");
            long r = down.getShape().get(0);
            return new NDArray[] {up.reshape(new Shape(up.getShape().get(0), r)).mul((float) strength),
                down.reshape(new Shape(r, -1))};
        }
    }

    static final class FilesIo implements ModelIo {
        @Override
        public TensorSource open(Path path) throws IOException {
            return SafetensorsReader.open(path);
        }

        @Override
        public TensorSink create(Path target, WritePlan plan) throws IOException {
            return SafetensorsWriter.create(target, plan);
        }
    }

    record T(long[] shape, float[] values) {
    }

    static void write(Path file, Map<String, T> tensors, DType dtype) throws IOException {
        List<TensorInfo> infos = new ArrayList<>();
        tensors.forEach((k, t) -> infos.add(new TensorInfo(k, dtype, t.shape())));
        try (SafetensorsWriter w = SafetensorsWriter.create(file, new WritePlan(infos, Map.of()))) {
            for (Map.Entry<String, T> e : tensors.entrySet()) {
                float[] v = e.getValue().values();
                ByteBuffer b = ByteBuffer.allocate(v.length * dtype.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
                for (float x : v) {
                    if (dtype == DType.F16) {
                        b.putShort(toHalf(x));
                    } else {
                        b.putFloat(x);
                    }
                }
                w.write(e.getKey(), b.flip());
            }
            w.commit();
        }
    }

    static short[] readHalves(Path file, String key) throws IOException {
        try (SafetensorsReader r = SafetensorsReader.open(file)) {
            ByteBuffer b = r.read(key).duplicate().order(ByteOrder.LITTLE_ENDIAN);
            short[] out = new short[b.remaining() / 2];
            b.asShortBuffer().get(out);
            return out;
        }
    }

    static float[] random(SplittableRandom random, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (random.nextGaussian() * scale);
        }
        return v;
    }

    /** fp16 bits to float, exactly. */
    static float toFloat(short h) {
        int bits = h & 0xffff;
        float mag = (bits >>> 10 & 0x1f) == 0 ? (bits & 0x3ff) * 0x1p-24f
                : Float.intBitsToFloat((((bits >>> 10) & 0x1f) + 112) << 23 | (bits & 0x3ff) << 13);
        return (bits & 0x8000) != 0 ? -mag : mag;
    }

    /** float to fp16 bits, nearest even, by search over the neighbouring halves (slow and obviously right). */
    static short toHalf(float f) {
        double target = f;
        int best = 0;
        double bestErr = Double.MAX_VALUE;
        int sign = f < 0 || (f == 0 && 1 / f < 0) ? 0x8000 : 0;
        for (int m = 0; m < 0x7c00; m++) {
            double err = Math.abs(Math.abs(target) - toFloat((short) m));
            if (err < bestErr || (err == bestErr && (m & 1) == 0)) {
                best = m;
                bestErr = err;
            }
        }
        return (short) (sign | best);
    }

    /** {@code fp16(W + Σ m_i·up_i·down_i)}, sums in double. */
    static short[] expected(short[] w, List<float[][]> modules, int rows, int cols) {
        short[] out = new short[w.length];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                double v = toFloat(w[i * cols + j]);
                for (float[][] m : modules) {
                    float[] up = m[0];
                    float[] down = m[1];
                    int r = up.length / rows;
                    for (int k = 0; k < r; k++) {
                        v += (double) m[2][0] * up[i * r + k] * down[k * cols + j];
                    }
                }
                out[i * cols + j] = toHalf((float) v);
            }
        }
        return out;
    }

    static void assertWithinOneHalfUlp(short[] expected, short[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        int exact = 0;
        for (int i = 0; i < expected.length; i++) {
            int d = Math.abs(expected[i] - actual[i]);
            assertTrue(d <= 1, what + "[" + i + "]: expected " + toFloat(expected[i]) + " but was "
                    + toFloat(actual[i]));
            if (d == 0) {
                exact++;
            }
        }
        // float32 sums differ from double ones only where a value lies within float32 error of an fp16 tie
        assertTrue(exact >= expected.length * 0.98, what + ": only " + exact + " of " + expected.length + " exact");
    }

    @Test
    void fusedBlocksMatchTheStraightforwardComputation() throws IOException {
        SplittableRandom random = new SplittableRandom(11);
        int qRows = 40;
        int qCols = 24;
        int convRows = 16;
        int convCols = 8 * 9;
        Map<String, T> model = new LinkedHashMap<>();
        model.put(Q, new T(new long[] {qRows, qCols}, random(random, qRows * qCols, 0.05)));
        model.put(CONV, new T(new long[] {convRows, 8, 3, 3}, random(random, convRows * convCols, 0.05)));
        model.put(UNTOUCHED, new T(new long[] {convRows}, random(random, convRows, 0.05)));
        Path base = dir.resolve("base.safetensors");
        write(base, model, DType.F16);

        float[] qUp1 = random(random, qRows * 4, 0.1);
        float[] qDown1 = random(random, 4 * qCols, 0.1);
        float[] qUp2 = random(random, qRows * 2, 0.1);
        float[] qDown2 = random(random, 2 * qCols, 0.1);
        float[] convUp = random(random, convRows * 3, 0.1);
        float[] convDown = random(random, 3 * convCols, 0.1);
        Map<String, T> first = new LinkedHashMap<>();
        first.put(Q_MODULE + ".lora_down.weight", new T(new long[] {4, qCols}, qDown1));
        first.put(Q_MODULE + ".lora_up.weight", new T(new long[] {qRows, 4}, qUp1));
        first.put(CONV_MODULE + ".lora_down.weight", new T(new long[] {3, 8, 3, 3}, convDown));
        first.put(CONV_MODULE + ".lora_up.weight", new T(new long[] {convRows, 3, 1, 1}, convUp));
        Map<String, T> second = new LinkedHashMap<>();
        second.put(Q_MODULE + ".lora_down.weight", new T(new long[] {2, qCols}, qDown2));
        second.put(Q_MODULE + ".lora_up.weight", new T(new long[] {qRows, 2}, qUp2));
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        write(a, first, DType.F32);
        write(b, second, DType.F32);

        // 64 elements: the to_q key (24 wide) takes 2 rows a block, 20 blocks; a conv row (72 wide) is wider than a
        // block, so every block holds one row. 40-byte staging buffers: blocks straddle the writer's buffers.
        LoraBaker.blockElements = 64;
        LoraBaker.stagingBytes = 40;
        List<BakeRequest.Strength> adapters = List.of(new BakeRequest.Strength(a, 0.7),
                new BakeRequest.Strength(b, -1.3));
        Path fused = dir.resolve("fused.safetensors");
        BakeResult r = new LoraBaker(runtime, new FilesIo(), List.of(new ProductType(true)))
                .bake(new BakeRequest(base, adapters, fused, null, false, null, 2, 0));
        assertEquals(3, r.modules());
        Path general = dir.resolve("general.safetensors");
        new LoraBaker(runtime, new FilesIo(), List.of(new ProductType(false)))
                .bake(new BakeRequest(base, adapters, general, null, false, null, 2, 0));

        short[] q = readHalves(base, Q);
        short[] conv = readHalves(base, CONV);
        short[] qExpected = expected(q, List.of(new float[][] {qUp1, qDown1, {0.7f}},
                new float[][] {qUp2, qDown2, {-1.3f}}), qRows, qCols);
        short[] convExpected = expected(conv, List.<float[][]>of(new float[][] {convUp, convDown, {0.7f}}),
                convRows, convCols);
        assertWithinOneHalfUlp(qExpected, readHalves(fused, Q), "fused to_q");
        assertWithinOneHalfUlp(convExpected, readHalves(fused, CONV), "fused conv1");
        assertWithinOneHalfUlp(qExpected, readHalves(general, Q), "general to_q");
        assertWithinOneHalfUlp(convExpected, readHalves(general, CONV), "general conv1");
        assertWithinOneHalfUlp(readHalves(general, Q), readHalves(fused, Q), "fused vs general to_q");
        assertArrayEquals(readHalves(base, UNTOUCHED), readHalves(fused, UNTOUCHED), "untouched bias");
    }

    @Test
    void fusedPathWritesOtherOutputTypes() throws IOException {
        SplittableRandom random = new SplittableRandom(3);
        Map<String, T> model = new LinkedHashMap<>();
        float[] w = random(random, 40 * 24, 0.05);
        model.put(Q, new T(new long[] {40, 24}, w));
        Path base = dir.resolve("base32.safetensors");
        write(base, model, DType.F32);
        float[] up = random(random, 40 * 4, 0.1);
        float[] down = random(random, 4 * 24, 0.1);
        Map<String, T> lora = new LinkedHashMap<>();
        lora.put(Q_MODULE + ".lora_down.weight", new T(new long[] {4, 24}, down));
        lora.put(Q_MODULE + ".lora_up.weight", new T(new long[] {40, 4}, up));
        Path a = dir.resolve("a.safetensors");
        write(a, lora, DType.F32);
        LoraBaker.blockElements = 100;
        Path out = dir.resolve("out.safetensors");
        new LoraBaker(runtime, new FilesIo(), List.of(new ProductType(true))).bake(new BakeRequest(base,
                List.of(new BakeRequest.Strength(a, 1.0)), out, DType.F32, false, null, 1, 0));
        try (SafetensorsReader r = SafetensorsReader.open(out)) {
            assertEquals(DType.F32, r.info(Q).orElseThrow().dtype());
            java.nio.FloatBuffer f = r.read(Q).duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            for (int i = 0; i < 40; i++) {
                for (int j = 0; j < 24; j++) {
                    double v = w[i * 24 + j];
                    for (int k = 0; k < 4; k++) {
                        v += (double) up[i * 4 + k] * down[k * 24 + j];
                    }
                    assertEquals(v, f.get(i * 24 + j), 1e-6, "[" + i + "," + j + "]");
                }
            }
        }
    }
}
