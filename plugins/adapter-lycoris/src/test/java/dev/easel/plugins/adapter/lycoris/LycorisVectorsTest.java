package dev.easel.plugins.adapter.lycoris;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.ParameterValues;
import dev.easel.api.adapter.AdapterModule;
import dev.easel.api.adapter.AdapterType;
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

/** The reference's test vectors (lora-formats.md section 7: 6-11) and hand-checked cases for the other types. */
class LycorisVectorsTest {
    static ComputeRuntime runtime;
    NDManager m;

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

    static Map<String, TensorInfo> infos(Map<String, NDArray> t) {
        Map<String, TensorInfo> r = new LinkedHashMap<>();
        t.forEach((k, v) -> r.put(k, new TensorInfo(k, DType.F32, v.getShape().getShape())));
        return r;
    }

    NDArray delta(AdapterType type, String prefix, Map<String, NDArray> t, NDArray base, double strength,
                  Map<String, Object> params) {
        AdapterModule module = type.recognize(prefix, infos(t)).orElseThrow(
                () -> new AssertionError(type.descriptor().id() + " did not recognise " + t.keySet()));
        ParameterValues values = type.parameters().validate(params);
        return type.delta(module, t, base, strength, values, m);
    }

    NDArray delta(AdapterType type, Map<String, NDArray> t, NDArray base) {
        return delta(type, "lora_unet_x", t, base, 1.0, Map.of());
    }

    @Test
    void vector6Loha() {
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("hada_w1_a", a(new float[] {1, 0, 0, 1, 1, 1, 2, -1}, 4, 2));
        t.put("hada_w1_b", a(new float[] {1, 2, 3, 0, -1, 1}, 2, 3));
        t.put("hada_w2_a", a(new float[] {1, 1, 1, 0, 0, 1, 1, 2}, 4, 2));
        t.put("hada_w2_b", a(new float[] {1, 0, 1, 1, 1, 0}, 2, 3));
        t.put("alpha", m.create(2f));
        NDArray d = delta(new LohaAdapter(), t, m.zeros(new Shape(4, 3)));
        assertArrayEquals(new float[] {2, 2, 3, 0, 0, 1, 1, 1, 0, 6, 10, 5}, d.toFloatArray(), 1e-6f);
    }

    @Test
    void lohaTuckerMatchesItsEinsum() {
        // One rank, 1x1 kernel: the Tucker form reduces to (a1*t1*b1) ⊙ (a2*t2*b2) per element.
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("hada_w1_a", a(new float[] {1, 2}, 1, 2));
        t.put("hada_w1_b", a(new float[] {3}, 1, 1));
        t.put("hada_t1", a(new float[] {1, 2, 3, 4}, 1, 1, 2, 2));
        t.put("hada_w2_a", a(new float[] {1, 1}, 1, 2));
        t.put("hada_w2_b", a(new float[] {2}, 1, 1));
        t.put("hada_t2", a(new float[] {1, 1, 1, 1}, 1, 1, 2, 2));
        NDArray d = delta(new LohaAdapter(), t, m.zeros(new Shape(2, 1, 2, 2)));
        assertArrayEquals(new float[] {6, 12, 18, 24, 12, 24, 36, 48}, d.toFloatArray(), 1e-6f);
    }

    @Test
    void vector7Lokr() {
        float[] kron = {1, 0, -1, 2, 0, -2, 2, 1, 0, 4, 2, 0, 3, 0, -3, 4, 0, -4, 6, 3, 0, 8, 4, 0};
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("lokr_w1", a(new float[] {1, 2, 3, 4}, 2, 2));
        t.put("lokr_w2", a(new float[] {1, 0, -1, 2, 1, 0}, 2, 3));
        t.put("alpha", m.create(7f));
        assertArrayEquals(kron, delta(new LokrAdapter(), t, m.zeros(new Shape(4, 6))).toFloatArray(), 1e-6f);

        t.remove("lokr_w2");
        t.put("lokr_w2_a", a(new float[] {1, 2}, 2, 1));
        t.put("lokr_w2_b", a(new float[] {1, 0, -1}, 1, 3));
        t.put("alpha", m.create(0.5f));
        NDArray d = delta(new LokrAdapter(), t, m.zeros(new Shape(4, 6)));
        // w2 = [[1,0,-1],[2,0,-2]], s = 0.5.
        NDArray w2 = a(new float[] {1, 0, -1, 2, 0, -2}, 2, 3);
        NDArray expected = WeightMath.kron(a(new float[] {1, 2, 3, 4}, 2, 2), w2).mul(0.5f);
        assertArrayEquals(expected.toFloatArray(), d.toFloatArray(), 1e-6f);
        assertEquals(-1f * 0.5f, d.getFloat(0, 2), 1e-6f);
    }

    @Test
    void lokrConvKronAndFlatFactorAgree() {
        NDArray w1 = a(new float[] {1, 2, 3, 4}, 2, 2);
        NDArray w2 = m.randomNormal(new Shape(2, 3, 3, 3));
        Map<String, NDArray> t4 = Map.of("lokr_w1", w1, "lokr_w2", w2);
        Map<String, NDArray> t2 = Map.of("lokr_w1", w1, "lokr_w2", w2.reshape(2, 27));
        NDArray base = m.zeros(new Shape(4, 6, 3, 3));
        assertArrayEquals(delta(new LokrAdapter(), t4, base).toFloatArray(),
                delta(new LokrAdapter(), t2, base).toFloatArray(), 1e-5f);
    }

    @Test
    void vector8Factorization() {
        assertArrayEquals(new int[] {16, 20}, Factorization.factorization(320, -1));
        assertArrayEquals(new int[] {24, 32}, Factorization.factorization(768, -1));
        assertArrayEquals(new int[] {32, 40}, Factorization.factorization(1280, -1));
        assertArrayEquals(new int[] {1, 127}, Factorization.factorization(127, -1));
        assertArrayEquals(new int[] {8, 40}, Factorization.factorization(320, 8));
        assertArrayEquals(new int[] {20, 32}, Factorization.factorization(640, -1));
        assertArrayEquals(new int[] {10, 32}, Factorization.power2factorization(320, 10));
        assertEquals(6, Factorization.boftStages(32));
        assertArrayEquals(new int[] {8, 64}, Factorization.power2factorization(512, 8));
        assertEquals(7, Factorization.boftStages(64));
        assertNull(Factorization.power2factorization(320, 4));
    }

    @Test
    void vector9Ia3() {
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("weight", a(new float[] {0.5f, -1}, 2));
        t.put("on_input", m.create(0L));
        NDArray w = a(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        NDArray merged = w.add(delta(new Ia3Adapter(), t, w));
        assertArrayEquals(new float[] {1.5f, 3, 4.5f, 0, 0, 0}, merged.toFloatArray(), 1e-6f);
        t.put("weight", a(new float[] {1, 0, -1}, 3));
        t.put("on_input", m.create(1L));
        assertArrayEquals(new float[] {2, 2, 0, 8, 5, 0}, w.add(delta(new Ia3Adapter(), t, w)).toFloatArray(), 1e-6f);
    }

    @Test
    void vector10LycorisOftWithoutConstraint() {
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("oft_blocks", a(new float[] {0, 0.1f, 0, 0}, 1, 2, 2));
        t.put("alpha", m.create(0f));
        NDArray w = a(new float[] {1, 2, 3, 4}, 2, 2);
        NDArray merged = w.add(delta(new DiagOftAdapter(), t, w));
        assertArrayEquals(new float[] {0.386139f, 1.168317f, 3.138614f, 4.316832f}, merged.toFloatArray(), 1e-5f);
        NDArray r = WeightMath.cayley(t.get("oft_blocks"), 0, false, m);
        assertArrayEquals(new float[] {0.980198f, 0.198020f, -0.198020f, 0.980198f}, r.toFloatArray(), 1e-5f);
    }

    @Test
    void vector10KohyaOftConstraint() {
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("oft_blocks", a(new float[] {0, 0.1f, 0, 0}, 1, 2, 2));
        t.put("alpha", m.create(1e-3f));
        NDArray w = a(new float[] {1, 2, 3, 4}, 2, 2);
        NDArray d = delta(new KohyaOftAdapter(), "oft_unet_x", t, w, 1.0, Map.of());
        // Q scaled from norm 0.141421 to 0.002: q = 0.002 / sqrt(2) off the diagonal.
        double q = 0.002 / Math.sqrt(2);
        double c = (1 - q * q) / (1 + q * q);
        double s = 2 * q / (1 + q * q);
        float[] expected = {(float) (c * 1 - s * 3), (float) (c * 2 - s * 4), (float) (s * 1 + c * 3),
            (float) (s * 2 + c * 4)};
        assertArrayEquals(expected, w.add(d).toFloatArray(), 1e-5f);
        assertTrue(new KohyaOftAdapter().recognize("lora_unet_x", infos(t)).isEmpty());
        assertTrue(new DiagOftAdapter().recognize("oft_unet_x", infos(t)).isEmpty());
    }

    @Test
    void oftConstraintFollowsLycorisOrComfyui() {
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("oft_blocks", a(new float[] {0, 0.1f, 0, 0}, 1, 2, 2));
        t.put("alpha", m.create(0.05f));
        NDArray w = a(new float[] {1, 2, 3, 4}, 2, 2);
        // ‖Q‖ = 0.1414: under alpha*out = 0.1 (LyCORIS) it is scaled to 0.1, under alpha = 0.05 (ComfyUI) to 0.05.
        for (String mode : new String[] {"lycoris", "comfyui"}) {
            double bound = mode.equals("lycoris") ? 0.1 : 0.05;
            NDArray blocks = a(new float[] {0, (float) (0.1 * bound / (0.1414213 + 1e-8)), 0, 0}, 1, 2, 2);
            NDArray expected = WeightMath.cayley(blocks, 0, false, m).reshape(2, 2).transpose().matMul(w).sub(w);
            assertArrayEquals(expected.toFloatArray(),
                    delta(new DiagOftAdapter(), "lora_unet_x", t, w, 1.0, Map.of("constraint", mode)).toFloatArray(),
                    1e-5f);
        }
    }

    @Test
    void oftStrengthInterpolatesTheRotation() {
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("oft_blocks", a(new float[] {0, 0.1f, 0, 0}, 1, 2, 2));
        NDArray w = a(new float[] {1, 2, 3, 4}, 2, 2);
        NDArray r = WeightMath.cayley(t.get("oft_blocks"), 0, false, m).reshape(2, 2);
        NDArray rm = r.sub(m.eye(2)).mul(0.5f).add(m.eye(2));
        NDArray expected = rm.transpose().matMul(w).sub(w);
        assertArrayEquals(expected.toFloatArray(),
                delta(new DiagOftAdapter(), "lora_unet_x", t, w, 0.5, Map.of()).toFloatArray(), 1e-6f);
    }

    @Test
    void vector11DoraBothAxes() {
        NDArray w = a(new float[] {3, 4, 0, 1}, 2, 2);
        Map<String, NDArray> t = new LinkedHashMap<>();
        // s·ΔW = [[0,0],[1,0]] as up@down with alpha = rank.
        t.put("lora_up.weight", a(new float[] {0, 1}, 2, 1));
        t.put("lora_down.weight", a(new float[] {1, 0}, 1, 2));
        t.put("dora_scale", a(new float[] {5, 1}, 2, 1));
        DoraAdapter dora = new DoraAdapter();
        assertTrue(dora.recognize("x", infos(t)).orElseThrow().variant().startsWith("output-axis"));
        NDArray out = w.add(delta(dora, t, w));
        assertArrayEquals(new float[] {3, 4, 0.707107f, 0.707107f}, out.toFloatArray(), 1e-5f);

        t.put("dora_scale", a(new float[] {3, 4.123106f}, 1, 2));
        assertTrue(dora.recognize("x", infos(t)).orElseThrow().variant().startsWith("input-axis"));
        NDArray in = w.add(delta(dora, t, w));
        assertArrayEquals(new float[] {2.846050f, 4, 0.948683f, 1}, in.toFloatArray(), 1e-5f);

        // Strength: LyCORIS scales inside the decomposition, A1111/ComfyUI the resulting delta.
        t.put("dora_scale", a(new float[] {5, 1}, 2, 1));
        NDArray v = a(new float[] {3, 4, 1, 1}, 2, 2);
        NDArray ratio = a(new float[] {1, 1, (float) (1 / Math.sqrt(2)), (float) (1 / Math.sqrt(2))}, 2, 2);
        NDArray lyco = v.mul(ratio.sub(1).mul(0.5f).add(1)).sub(w);
        assertArrayEquals(lyco.toFloatArray(), delta(dora, "x", t, w, 0.5, Map.of()).toFloatArray(), 1e-5f);
        NDArray a1111 = v.mul(ratio).sub(w).mul(0.5f);
        assertArrayEquals(a1111.toFloatArray(),
                delta(dora, "x", t, w, 0.5, Map.of("strength_mode", "a1111")).toFloatArray(), 1e-5f);
    }

    @Test
    void boftSingleStageIsTheUntransposedRotation() {
        // One stage of one block of 2: the butterfly permutation is the identity, so W' = R·W.
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("oft_blocks", a(new float[] {0, 0.1f, 0, 0}, 1, 1, 2, 2));
        NDArray w = a(new float[] {1, 2, 3, 4}, 2, 2);
        NDArray r = WeightMath.cayley(a(new float[] {0, 0.1f, 0, 0}, 1, 2, 2), 0, false, m).reshape(2, 2);
        assertArrayEquals(r.matMul(w).sub(w).toFloatArray(),
                delta(new BoftAdapter(), t, w).toFloatArray(), 1e-6f);
    }

    @Test
    void boftTwoStagesPairRowsAtStrideOne() {
        // out 4, block size 2, 2 blocks, 2 stages. Stage 0 pairs rows (0,1),(2,3); stage 1 pairs (0,2),(1,3).
        float[] b = {0, 0.2f, 0, 0, 0, -0.1f, 0, 0, 0, 0.3f, 0, 0, 0, 0.05f, 0, 0};
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("oft_blocks", a(b, 2, 2, 2, 2));
        NDArray w = m.randomNormal(new Shape(4, 3));
        NDArray r = WeightMath.cayley(a(b, 2, 2, 2, 2), 0, false, m);
        NDArray s0 = m.zeros(new Shape(4, 4));
        NDArray s1 = m.zeros(new Shape(4, 4));
        int[][] pairs0 = {{0, 1}, {2, 3}};
        int[][] pairs1 = {{0, 2}, {1, 3}};
        for (int k = 0; k < 2; k++) {
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 2; j++) {
                    s0.set(new ai.djl.ndarray.index.NDIndex(pairs0[k][i], pairs0[k][j]), r.getFloat(0, k, i, j));
                    s1.set(new ai.djl.ndarray.index.NDIndex(pairs1[k][i], pairs1[k][j]), r.getFloat(1, k, i, j));
                }
            }
        }
        NDArray expected = s1.matMul(s0.matMul(w)).sub(w);
        assertArrayEquals(expected.toFloatArray(), delta(new BoftAdapter(), t, w).toFloatArray(), 1e-5f);
    }

    @Test
    void gloraNewAndOldLayouts() {
        NDArray w = a(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("a1.weight", a(new float[] {1, 0, 2}, 3, 1));
        t.put("a2.weight", a(new float[] {1, 1, 0}, 1, 3));
        t.put("b1.weight", a(new float[] {1, -1}, 2, 1));
        t.put("b2.weight", a(new float[] {0, 1, 2}, 1, 3));
        t.put("alpha", m.create(2f));
        NDArray expected = w.matMul(t.get("a1.weight")).matMul(t.get("a2.weight"))
                .add(t.get("b1.weight").matMul(t.get("b2.weight"))).mul(2f);
        assertArrayEquals(expected.toFloatArray(), delta(new GloraAdapter(), t, w).toFloatArray(), 1e-5f);
        NDArray old = t.get("b2.weight").reshape(3, 1).matMul(t.get("b1.weight").reshape(1, 2)).transpose();
        assertEquals(new Shape(2, 3), old.getShape());
        NDArray forcedOld = delta(new GloraAdapter(), "x", Map.of("a1.weight", a(new float[] {1, 1, 0}, 1, 3),
                "a2.weight", a(new float[] {1, 0, 2}, 3, 1), "b1.weight", a(new float[] {0, 1, 2}, 1, 3),
                "b2.weight", a(new float[] {1, -1}, 2, 1)), w, 1.0, Map.of("layout", "old"));
        NDArray oldExpected = a(new float[] {1, -1}, 2, 1).matMul(a(new float[] {0, 1, 2}, 1, 3))
                .add(w.matMul(a(new float[] {1, 0, 2}, 3, 1)).matMul(a(new float[] {1, 1, 0}, 1, 3)));
        assertArrayEquals(oldExpected.toFloatArray(), forcedOld.toFloatArray(), 1e-5f);
    }

    @Test
    void fullAndNormPatchWeightAndBias() {
        FullAdapter full = new FullAdapter();
        Map<String, NDArray> t = Map.of("diff", a(new float[] {1, 2}, 2, 1), "diff_b", a(new float[] {3, 4}, 2));
        AdapterModule mod = full.recognize("x", infos(t)).orElseThrow();
        ParameterValues none = full.parameters().validate(Map.of());
        assertArrayEquals(new float[] {0.5f, 1}, full.delta(mod, t, m.zeros(new Shape(2, 1)), 0.5, none, m)
                .toFloatArray(), 1e-6f);
        assertArrayEquals(new float[] {1.5f, 2}, full.biasDelta(mod, t, m.zeros(new Shape(2)), 0.5, none, m)
                .toFloatArray(), 1e-6f);
        NormAdapter norm = new NormAdapter();
        Map<String, NDArray> n = Map.of("w_norm", a(new float[] {1, 2}, 2), "b_norm", a(new float[] {3, 4}, 2));
        AdapterModule nm = norm.recognize("x", infos(n)).orElseThrow();
        assertArrayEquals(new float[] {2, 4}, norm.delta(nm, n, m.zeros(new Shape(2)), 2, none, m).toFloatArray(),
                1e-6f);
        assertArrayEquals(new float[] {6, 8}, norm.biasDelta(nm, n, m.zeros(new Shape(2)), 2, none, m).toFloatArray(),
                1e-6f);
    }

    @Test
    void loconMatchesTheKohyaProduct() {
        Map<String, NDArray> t = new LinkedHashMap<>();
        t.put("lora_up.weight", a(new float[] {2, -1}, 2, 1, 1, 1));
        t.put("lora_down.weight", a(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 1, 1, 3, 3));
        t.put("alpha", m.create(1f));
        NDArray d = delta(new LoConAdapter(), t, m.zeros(new Shape(2, 1, 3, 3)));
        assertEquals(18f, d.getFloat(0, 0, 2, 2), 1e-6f);
        assertEquals(-9f, d.getFloat(1, 0, 2, 2), 1e-6f);
    }
}
