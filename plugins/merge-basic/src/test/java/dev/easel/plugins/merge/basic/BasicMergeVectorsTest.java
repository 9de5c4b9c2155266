package dev.easel.plugins.merge.basic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.easel.api.ParameterValues;
import dev.easel.api.merge.MergeAlgorithm;
import dev.easel.api.merge.MergeContext;
import dev.easel.core.runtime.ComputeRuntime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The test vectors of merge-algorithms.md section 11 (T1, T2, T4; T3's fp16 rounding is the engine's, tested in
 * engine-core), called directly without an executor, through both {@code merge} and the pure-Java kernel.
 */
class BasicMergeVectorsTest {
    static ComputeRuntime runtime;
    NDManager manager;

    @BeforeAll
    static void start() {
        runtime = new ComputeRuntime().start();
    }

    @AfterAll
    static void stop() {
        runtime.close();
    }

    @BeforeEach
    void open() {
        manager = runtime.newManager();
    }

    @AfterEach
    void close() {
        manager.close();
    }

    private float[] run(MergeAlgorithm alg, Map<String, ?> params, float[]... inputs) {
        List<NDArray> arrays = new ArrayList<>();
        for (float[] in : inputs) {
            arrays.add(manager.create(in));
        }
        ParameterValues values = alg.parameters().validate(params);
        MergeContext ctx = new MergeContext() {
            public String key() {
                return "k";
            }

            public String block() {
                return "BASE";
            }

            public NDManager manager() {
                return manager;
            }

            public long seed() {
                return 1;
            }
        };
        float[] out = alg.merge(ctx, arrays, values).toFloatArray();
        for (int i = 0; i < inputs.length; i++) {
            assertArrayEquals(inputs[i], arrays.get(i).toFloatArray(), "input " + i + " was modified");
        }
        // the engine's fast path must give the very same floats as merge()
        alg.kernel(values).ifPresent(k -> {
            float[] fast = new float[out.length];
            k.apply(inputs, fast, fast.length);
            assertArrayEquals(out, fast, "kernel and merge() differ");
        });
        return out;
    }

    static final float[] A = {1, 2, -3, 0.5f};
    static final float[] B = {3, -2, 1, 0.5f};
    static final float[] C = {2, 0, 0, 1};

    @Test
    void t1WeightedSum() {
        WeightedSumMerge ws = new WeightedSumMerge();
        assertArrayEquals(new float[] {1.5f, 1.0f, -2.0f, 0.5f}, run(ws, Map.of("alpha", 0.25), A, B), 1e-6f);
        assertArrayEquals(A, run(ws, Map.of("alpha", 0), A, B));
        assertArrayEquals(B, run(ws, Map.of("alpha", 1), A, B));
    }

    @Test
    void t2AddDifferenceTripleSumSumTwice() {
        AddDifferenceMerge ad = new AddDifferenceMerge();
        assertArrayEquals(new float[] {1.5f, 1.0f, -2.5f, 0.25f}, run(ad, Map.of("alpha", 0.5), A, B, C), 1e-6f);
        assertArrayEquals(new float[] {2, 0, -2, 0}, run(ad, Map.of("alpha", 1), A, B, C), 1e-6f);
        assertArrayEquals(new float[] {1.7f, 0.6f, -1.3f, 0.65f},
                run(new TripleSumMerge(), Map.of("alpha", 0.2, "beta", 0.3), A, B, C), 1e-6f);
        assertArrayEquals(new float[] {1.58f, 0.84f, -1.54f, 0.65f},
                run(new SumTwiceMerge(), Map.of("alpha", 0.2, "beta", 0.3), A, B, C), 1e-6f);
    }

    @Test
    void t4SlerpBothVariants() {
        SlerpMerge s = new SlerpMerge();
        Map<String, Object> mecha = Map.of("alpha", 0.5);
        Map<String, Object> mk = Map.of("alpha", 0.5, "variant", "mergekit");
        float[] h = {0.70710678f, 0.70710678f};
        assertArrayEquals(h, run(s, mecha, new float[] {1, 0}, new float[] {0, 1}), 1e-6f);
        assertArrayEquals(h, run(s, mk, new float[] {1, 0}, new float[] {0, 1}), 1e-6f);
        assertArrayEquals(new float[] {1.41421356f, 0.70710678f}, run(s, mk, new float[] {2, 0}, new float[] {0, 1}),
                1e-6f);
        assertArrayEquals(new float[] {1.06066017f, 1.06066017f},
                run(s, mecha, new float[] {2, 0}, new float[] {0, 1}), 1e-6f);
        assertArrayEquals(new float[] {1.0f, 0.005f}, run(s, mk, new float[] {1, 0}, new float[] {1, 0.01f}), 1e-6f);
        assertArrayEquals(new float[] {1.0000125f, 0.00499994f},
                run(s, mecha, new float[] {1, 0}, new float[] {1, 0.01f}), 1e-5f);
        assertArrayEquals(new float[] {1.00019982f, 0.02000400f},
                run(s, mk, new float[] {1, 0}, new float[] {1, 0.04f}), 1e-5f);
        assertArrayEquals(new float[] {1.00019998f, 0.01999600f},
                run(s, mecha, new float[] {1, 0}, new float[] {1, 0.04f}), 1e-5f);
        assertArrayEquals(new float[] {1.5f, 0}, run(s, mk, new float[] {1, 0}, new float[] {2, 0}), 1e-6f);
        assertArrayEquals(new float[] {1.5f, 0}, run(s, mecha, new float[] {1, 0}, new float[] {2, 0}), 1e-6f);
        float[] e = {3.53553391f, 3.53553391f};
        assertArrayEquals(e, run(s, mecha, new float[] {3, 4}, new float[] {4, 3}), 1e-5f);
        assertArrayEquals(e, run(s, mk, new float[] {3, 4}, new float[] {4, 3}), 1e-5f);
        assertArrayEquals(new float[] {0.92387953f, 0.38268343f},
                run(s, Map.of("alpha", 0.25), new float[] {1, 0}, new float[] {0, 1}), 1e-6f);
    }

    @Test
    void copySelectsAnInput() {
        CopyMerge c = new CopyMerge();
        assertArrayEquals(B, run(c, Map.of("index", 1), A, B, C));
        assertArrayEquals(A, run(c, Map.of(), A, B));
        assertThrows(IllegalArgumentException.class, () -> run(c, Map.of("index", 2), A, B));
    }
}
