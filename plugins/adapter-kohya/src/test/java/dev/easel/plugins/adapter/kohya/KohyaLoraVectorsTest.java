package dev.easel.plugins.adapter.kohya;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.adapter.AdapterModule;
import dev.easel.api.tensor.DType;
import dev.easel.api.tensor.TensorInfo;
import dev.easel.core.runtime.ComputeRuntime;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The LoRA test vectors of the reference (lora-formats.md section 7: 1, 2, 4, 5) for lora/kohya and lora/peft. */
class KohyaLoraVectorsTest {
    static ComputeRuntime runtime;
    NDManager m;
    final KohyaLoraAdapter kohya = new KohyaLoraAdapter();
    final PeftLoraAdapter peft = new PeftLoraAdapter();

    @BeforeAll
    static void start() {
        runtime = new ComputeRuntime().start();
    }

    @AfterAll
    static void stop() {
        runtime.close();
    }

    @BeforeEach
    void manager() {
        m = runtime.newManager();
    }

    @AfterEach
    void close() {
        m.close();
    }

    NDArray a(float[] v, long... shape) {
        return m.create(v, new Shape(shape));
    }

    static final float[] UP = {1, 0, 0, 1, 1, 1, 2, -1};
    static final float[] DOWN = {1, 2, 3, 0, -1, 1};

    private static Map<String, TensorInfo> infos(Map<String, NDArray> t) {
        Map<String, TensorInfo> r = new LinkedHashMap<>();
        t.forEach((k, v) -> r.put(k, new TensorInfo(k, DType.F32, v.getShape().getShape())));
        return r;
    }

    private NDArray kohyaDelta(Map<String, NDArray> t, NDArray base) {
        AdapterModule module = kohya.recognize("lora_unet_x", infos(t)).orElseThrow();
        return kohya.delta(module, t, base, m);
    }

    @Test
    void vector1AlphaOneRankTwo() {
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("lora_up.weight", a(UP, 4, 2));
        t.put("lora_down.weight", a(DOWN, 2, 3));
        t.put("alpha", m.create(1f));
        NDArray d = kohyaDelta(t, m.zeros(new Shape(4, 3)));
        assertArrayEquals(new float[] {0.5f, 1, 1.5f, 0, -0.5f, 0.5f, 0.5f, 0.5f, 2, 1, 2.5f, 2.5f}, d.toFloatArray(),
                1e-6f);
        AdapterModule module = kohya.recognize("lora_unet_x", infos(t)).orElseThrow();
        NDArray at08 = kohya.delta(module, t, m.zeros(new Shape(4, 3)), 0.8, kohya.parameters().validate(Map.of()), m);
        assertArrayEquals(d.mul(0.8f).toFloatArray(), at08.toFloatArray(), 1e-6f);
        NDArray[] f = kohya.lowRankFactors(module, t, 0.8, kohya.parameters().validate(Map.of()), m);
        assertArrayEquals(at08.toFloatArray(), f[0].matMul(f[1]).toFloatArray(), 1e-6f);
        assertEquals("linear", module.variant());
        assertEquals(2, module.rank());
    }

    @Test
    void vector2MissingAlphaAndAlphaOfAnyType() {
        float[] expected = {1, 2, 3, 0, -1, 1, 1, 1, 4, 2, 5, 5};
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("lora_up.weight", a(UP, 4, 2));
        t.put("lora_down.weight", a(DOWN, 2, 3));
        assertArrayEquals(expected, kohyaDelta(t, null).toFloatArray(), 1e-6f);
        for (NDArray alpha : new NDArray[] {m.create(2L), m.create(2f).toType(DataType.FLOAT16, false),
            m.create(new float[] {2f}).toType(DataType.FLOAT16, false)}) {
            t.put("alpha", alpha);
            assertArrayEquals(expected, kohyaDelta(t, null).toFloatArray(), 1e-6f);
        }
    }

    @Test
    void vector4Conv3x3WithOneByOneUp() {
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("lora_up.weight", a(new float[] {2, -1}, 2, 1, 1, 1));
        t.put("lora_down.weight", a(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3));
        t.put("alpha", m.create(1f));
        NDArray d = kohyaDelta(t, m.zeros(new Shape(2, 1, 3, 3)));
        float[] expected = new float[18];
        for (int i = 0; i < 9; i++) {
            expected[i] = 2 * (i + 1);
            expected[9 + i] = -(i + 1);
        }
        assertArrayEquals(expected, d.toFloatArray(), 1e-6f);
        assertEquals(new Shape(2, 1, 3, 3), d.getShape());
        // kohya's merge_lora.py construction: conv2d(down.permute(1,0,2,3), up).permute(1,0,2,3).
        NDArray viaConv = ai.djl.nn.convolutional.Conv2d.conv2d(t.get("lora_down.weight").transpose(1, 0, 2, 3),
                t.get("lora_up.weight")).singletonOrThrow().transpose(1, 0, 2, 3);
        assertArrayEquals(expected, viaConv.toFloatArray(), 1e-6f);
        assertEquals("conv 3x3, 1x1 up", kohya.recognize("x", infos(t)).orElseThrow().variant());
    }

    @Test
    void vector5TuckerMid() {
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("lora_up.weight", a(new float[] {3}, 1, 1, 1, 1));
        t.put("lora_mid.weight", m.ones(new Shape(1, 1, 3, 3)));
        t.put("lora_down.weight", a(new float[] {2}, 1, 1, 1, 1));
        t.put("alpha", m.create(0.5f));
        NDArray d = kohyaDelta(t, m.zeros(new Shape(1, 1, 3, 3)));
        assertEquals(null, kohya.lowRankFactors(kohya.recognize("x", infos(t)).orElseThrow(), t, 1.0,
                kohya.parameters().validate(Map.of()), m), "a Tucker delta is not a product of two factors");
        float[] expected = new float[9];
        java.util.Arrays.fill(expected, 6 * 0.5f);
        assertArrayEquals(expected, d.toFloatArray(), 1e-6f);
    }

    @Test
    void linearFactorsFitAOneByOneConvAndBack() {
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("lora_up.weight", a(UP, 4, 2));
        t.put("lora_down.weight", a(DOWN, 2, 3));
        NDArray d = kohyaDelta(t, m.zeros(new Shape(4, 3, 1, 1)));
        assertEquals(new Shape(4, 3, 1, 1), d.getShape());
    }

    @Test
    void peftScaleComesFromLoraAlpha() {
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("lora_B.weight", a(UP, 4, 2));
        t.put("lora_A.weight", a(DOWN, 2, 3));
        AdapterModule module = peft.recognize("unet.x", infos(t)).orElseThrow();
        NDArray plain = peft.delta(module, t, null, m);
        assertArrayEquals(new float[] {1, 2, 3, 0, -1, 1, 1, 1, 4, 2, 5, 5}, plain.toFloatArray(), 1e-6f);
        NDArray half = peft.delta(module, t, null, 1.0, peft.parameters().validate(Map.of("lora_alpha", 1)), m);
        assertArrayEquals(plain.mul(0.5f).toFloatArray(), half.toFloatArray(), 1e-6f);
        NDArray rs = peft.delta(module, t, null, 1.0,
                peft.parameters().validate(Map.of("lora_alpha", 2, "use_rslora", true)), m);
        assertArrayEquals(plain.mul((float) (2 / Math.sqrt(2))).toFloatArray(), rs.toFloatArray(), 1e-5f);
    }

    @Test
    void foreignKeysAreNotKohya() {
        Map<String, TensorInfo> t = new LinkedHashMap<>();
        t.put("lora_up.weight", new TensorInfo("u", DType.F16, 4, 2));
        t.put("lora_down.weight", new TensorInfo("d", DType.F16, 2, 3));
        t.put("dora_scale", new TensorInfo("s", DType.F16, 4, 1));
        assertTrue(kohya.recognize("x", t).isEmpty());
        assertTrue(peft.recognize("x", t).isEmpty());
    }
}
