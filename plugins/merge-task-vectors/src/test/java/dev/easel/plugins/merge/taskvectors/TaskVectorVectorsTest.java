package dev.easel.plugins.merge.taskvectors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.easel.api.InvalidParameterException;
import dev.easel.api.ParameterValues;
import dev.easel.api.merge.ElementwiseKernel;
import dev.easel.api.merge.MergeAlgorithm;
import dev.easel.api.merge.MergeContext;
import dev.easel.core.runtime.ComputeRuntime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The test vectors of merge-algorithms.md section 11 (T5 TIES, T6 DARE and DARE-TIES, T8 model stock and train
 * difference; copied into this test, values computed in float64 by the reference's author) plus derived ones.
 */
class TaskVectorVectorsTest {
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

    private MergeContext context(long seed) {
        return new MergeContext() {
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
                return seed;
            }
        };
    }

    private float[] run(MergeAlgorithm alg, Map<String, ?> params, float[]... inputs) {
        return run(alg, 1, params, inputs);
    }

    private float[] run(MergeAlgorithm alg, long seed, Map<String, ?> params, float[]... inputs) {
        List<NDArray> arrays = new ArrayList<>();
        for (float[] in : inputs) {
            arrays.add(manager.create(in));
        }
        ParameterValues values = alg.parameters().validate(params);
        alg.checkInputs(values, inputs.length);
        float[] out = alg.merge(context(seed), arrays, values).toFloatArray();
        for (int i = 0; i < inputs.length; i++) {
            assertArrayEquals(inputs[i], arrays.get(i).toFloatArray(), "input " + i + " was modified");
        }
        alg.kernel(values).ifPresent(k -> assertArrayEquals(out, kernel(k, inputs), 1e-6f, "kernel != merge"));
        return out;
    }

    private static float[] kernel(ElementwiseKernel k, float[]... inputs) {
        float[] out = new float[inputs[0].length];
        k.apply(inputs, out, out.length);
        return out;
    }

    // T5: base 0 and three task vectors of six entries.
    static final float[] ZERO6 = new float[6];
    static final float[] T1 = {0.6f, -0.2f, 0.1f, 0.5f, -0.05f, 0.3f};
    static final float[] T2 = {-0.5f, 0.4f, 0.3f, -0.1f, 0.2f, 0.05f};
    static final float[] T3 = {0.1f, 0.1f, -0.9f, 0.2f, -0.6f, 0.35f};

    @Test
    void t5TrimKeepsExactlyFloorKnInTheMergekitConvention() {
        float[] a = T1.clone();
        float[] b = T2.clone();
        float[] c = T3.clone();
        Sparsify.keepTopExact(a, 0.5);
        Sparsify.keepTopExact(b, 0.5);
        Sparsify.keepTopExact(c, 0.5);
        assertArrayEquals(new float[] {0.6f, 0, 0, 0.5f, 0, 0.3f}, a);
        assertArrayEquals(new float[] {-0.5f, 0.4f, 0.3f, 0, 0, 0}, b);
        assertArrayEquals(new float[] {0, 0, -0.9f, 0, -0.6f, 0.35f}, c);
    }

    @Test
    void exactTrimBreaksTiesAtTheThresholdByIndex() {
        float[] d = {0.5f, -0.5f, 0.5f, 0.1f};
        Sparsify.keepTopExact(d, 0.5);
        assertArrayEquals(new float[] {0.5f, -0.5f, 0, 0}, d);
        float[] zeros = new float[10];
        zeros[3] = 1;
        Sparsify.keepTopExact(zeros, 0.3);
        assertEquals(1, count(zeros, 1f), "the one non-zero entry is kept");
        assertEquals(9, count(zeros, 0f));
        Sparsify.Rank r = Sparsify.rank(new float[] {3, -1, 1, 2, 1}, 2);
        assertEquals(1f, r.value());
        assertEquals(0, r.below());
        assertEquals(3, r.equal());
    }

    private static int count(float[] x, float v) {
        int c = 0;
        for (float f : x) {
            c += f == v ? 1 : 0;
        }
        return c;
    }

    @Test
    void t5TrimKeepsNMinusMPlusOneInTheSdMechaConvention() {
        float[] a = T1.clone();
        float[] b = T2.clone();
        float[] c = T3.clone();
        Sparsify.keepTopThreshold(a, 0.5);
        Sparsify.keepTopThreshold(b, 0.5);
        Sparsify.keepTopThreshold(c, 0.5);
        assertArrayEquals(new float[] {0.6f, -0.2f, 0, 0.5f, 0, 0.3f}, a);
        assertArrayEquals(new float[] {-0.5f, 0.4f, 0.3f, 0, 0.2f, 0}, b);
        assertArrayEquals(new float[] {0, 0, -0.9f, 0.2f, -0.6f, 0.35f}, c);
    }

    @Test
    void t5TiesAllVariants() {
        TiesMerge ties = new TiesMerge();
        assertArrayEquals(new float[] {0.6f, 0.4f, -0.9f, 0.5f, -0.6f, 0.325f},
                run(ties, Map.of("k", 0.5), ZERO6, T1, T2, T3), 1e-6f);
        assertArrayEquals(new float[] {0.6f, 0.4f, 0.3f, 0.5f, -0.6f, 0.325f},
                run(ties, Map.of("k", 0.5, "vote_sgn", false), ZERO6, T1, T2, T3), 1e-6f);
        assertArrayEquals(new float[] {0, 0, 0, 0.35f, 0, 0.325f},
                run(ties, Map.of("k", 0.5, "vote_sgn", false, "variant", "sd-mecha"), ZERO6, T1, T2, T3), 1e-6f);
        assertArrayEquals(new float[] {0.6f, 0.4f, -0.9f, 0.35f, -0.6f, 0.325f},
                run(ties, Map.of("k", 0.5, "vote_sgn", true, "variant", "sd-mecha"), ZERO6, T1, T2, T3), 1e-6f);
    }

    @Test
    void tiesIsRelativeToTheBaseAndScaledByAlpha() {
        float[] base = {1, -1, 2, 0, 0.5f, -2};
        float[][] models = {plus(base, T1), plus(base, T2), plus(base, T3)};
        float[] expected = {0.6f, 0.4f, -0.9f, 0.5f, -0.6f, 0.325f};
        for (int i = 0; i < 6; i++) {
            expected[i] = base[i] + 0.5f * expected[i];
        }
        assertArrayEquals(expected, run(new TiesMerge(), Map.of("k", 0.5, "alpha", 0.5), base, models[0], models[1],
                models[2]), 1e-6f);
    }

    // T6: one delta, a fixed keep mask, drop probability 0.5.
    static final float[] D1 = {0.2f, -0.4f, 0.6f, -0.8f};
    static final float[] D2 = {-0.3f, 0.1f, 0.2f, 0.4f};
    static final IntPredicate M1 = i -> i == 0 || i == 2;
    static final IntPredicate M2 = i -> i == 0 || i == 1;

    private static float[] dare(float[] d, IntPredicate mask, Sparsify.Rescale r) {
        float[] x = d.clone();
        Sparsify.dropAndRescale(x, mask, 0.5, r);
        return x;
    }

    @Test
    void t6DareRescales() {
        assertArrayEquals(new float[] {0.4f, 0, 1.2f, 0}, dare(D1, M1, Sparsify.Rescale.PAPER), 1e-6f);
        assertArrayEquals(new float[] {0.5f, 0, 1.5f, 0}, dare(D1, M1, Sparsify.Rescale.L1), 1e-6f);
        assertArrayEquals(new float[] {0.2f, 0, 0.6f, 0}, dare(D1, M1, Sparsify.Rescale.NONE), 1e-6f);
    }

    @Test
    void t6DareTiesAndDareLinearWithBothRescales() {
        double[] w = {1, 1};
        float[][] l1 = {dare(D1, M1, Sparsify.Rescale.L1), dare(D2, M2, Sparsify.Rescale.L1)};
        assertArrayEquals(new float[] {-0.75f, 0.25f, 0, 0}, l1[1], 1e-6f);
        assertArrayEquals(new float[] {-0.75f, 0.25f, 1.5f, 0}, DareTiesMerge.elect(l1, w, true, false), 1e-6f);
        assertArrayEquals(new float[] {-0.25f, 0.25f, 1.5f, 0},
                TaskVectors.combine(l1, w, TaskVectors.Consensus.NONE, true, false), 1e-6f);
        float[][] paper = {dare(D1, M1, Sparsify.Rescale.PAPER), dare(D2, M2, Sparsify.Rescale.PAPER)};
        assertArrayEquals(new float[] {-0.6f, 0.2f, 0, 0}, paper[1], 1e-6f);
        assertArrayEquals(new float[] {-0.6f, 0.2f, 1.2f, 0}, DareTiesMerge.elect(paper, w, true, false), 1e-6f);
        assertArrayEquals(new float[] {-0.2f, 0.2f, 1.2f, 0},
                TaskVectors.combine(paper, w, TaskVectors.Consensus.NONE, true, false), 1e-6f);
    }

    @Test
    void dareMasksAreSeededPerKeyAndKeepTheExpectedFraction() {
        int n = 200_000;
        float[] base = new float[n];
        float[] model = new float[n];
        for (int i = 0; i < n; i++) {
            base[i] = (float) Math.sin(i);
            model[i] = base[i] + 0.25f;
        }
        DareMerge dare = new DareMerge();
        Map<String, Object> p = Map.of("probability", 0.75);
        float[] first = run(dare, 42, p, base, model);
        assertArrayEquals(first, run(dare, 42, p, base, model), "same seed, same result");
        assertFalse(Arrays.equals(first, run(dare, 43, p, base, model)), "another seed, another mask");
        int kept = 0;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float delta = first[i] - base[i];
            if (delta != 0) {
                kept++;
                assertEquals(1.0f, delta, 1e-5f, "kept entries are divided by 1 - p");
            }
            sum += delta;
        }
        assertEquals(0.25, kept / (double) n, 0.005);
        assertEquals(0.25, sum / n, 0.005, "the paper rescale keeps the delta's mean");
        float[] dareTies = run(new DareTiesMerge(), 42, p, base, model);
        assertArrayEquals(first, dareTies, 1e-6f, "with one model DARE-TIES is DARE");
    }

    @Test
    void taskArithmeticSumsWeightedDeltas() {
        TaskArithmeticMerge ta = new TaskArithmeticMerge();
        // derived: base 0 + T1 + T2 + T3
        assertArrayEquals(new float[] {0.2f, 0.3f, -0.5f, 0.6f, -0.45f, 0.7f},
                run(ta, Map.of(), ZERO6, T1, T2, T3), 1e-6f);
        // add_difference A + 0.5 (B - C) of T2 is task arithmetic over base C
        float[] a = {1, 2, -3, 0.5f};
        float[] b = {3, -2, 1, 0.5f};
        float[] c = {2, 0, 0, 1};
        float[] bMinusCPlusA = {a[0] + b[0] - c[0], a[1] + b[1] - c[1], a[2] + b[2] - c[2], a[3] + b[3] - c[3]};
        assertArrayEquals(new float[] {1.5f, 1.0f, -2.5f, 0.25f}, run(ta, Map.of("alpha", 0.5), a, bMinusCPlusA),
                1e-6f);
        assertArrayEquals(new float[] {1.2f + 0.5f, -0.4f - 0.4f, 0.2f - 0.3f, 1.0f + 0.1f, -0.1f - 0.2f,
            0.6f - 0.05f}, run(ta, Map.of("weights", "2,-1"), ZERO6, T1, T2), 1e-6f);
    }

    @Test
    void weightsMustMatchTheModels() {
        TaskArithmeticMerge ta = new TaskArithmeticMerge();
        InvalidParameterException e = assertThrows(InvalidParameterException.class,
                () -> ta.checkInputs(ta.parameters().validate(Map.of("weights", "1,2,3")), 3));
        assertTrue(e.getMessage().contains("weights") && e.getMessage().contains("2 model"), e.getMessage());
    }

    @Test
    void t8ModelStock() {
        assertArrayEquals(new float[] {0.82842712f, 0.41421356f},
                run(new ModelStockMerge(), Map.of(), new float[] {0, 0}, new float[] {1, 0}, new float[] {1, 1}),
                1e-6f);
        float[] base = {1, 1};
        assertArrayEquals(base, run(new ModelStockMerge(), Map.of(), base, base, base), "no deltas: the base");
    }

    @Test
    void t8TrainDifference() {
        assertArrayEquals(new float[] {2.2f, 2.0f, 0.0f, -0.2f}, run(new TrainDifferenceMerge(), Map.of("alpha", 1),
                new float[] {1, 2, 0, 1}, new float[] {2, 2, 1, -1}, new float[] {0, 0, 1, 0}), 1e-6f);
    }

    @Test
    void geometricMedianIsRobustToAnOutlier() {
        // derived: in one dimension the geometric median of 0, 1, 5 is the median 1
        assertArrayEquals(new float[] {1}, run(new GeometricMedianMerge(), Map.of(), new float[] {0},
                new float[] {1}, new float[] {5}), 1e-4f);
        // derived: four corners of a square and a far fifth point on the diagonal. At (1 + s, 1 + s) the far
        // point's unit pull (1) balances the two off-diagonal corners' 2s / sqrt(1 + s^2): s = 1 / sqrt(3).
        float[] median = run(new GeometricMedianMerge(), Map.of(), new float[] {0, 0}, new float[] {2, 0},
                new float[] {0, 2}, new float[] {2, 2}, new float[] {100, 100});
        assertEquals(1 + 1 / Math.sqrt(3), median[0], 1e-4, "the mean would be 20.8");
        assertEquals(median[0], median[1], 1e-5);
    }

    @Test
    void kthSmallestMagnitudeMatchesSorting() {
        float[] a = new float[10_000];
        a[5] = 3;
        a[7] = -2;
        assertEquals(0f, Sparsify.kthSmallestMagnitude(a, 9_997));
        assertEquals(2f, Sparsify.kthSmallestMagnitude(a, 9_998));
        assertEquals(3f, Sparsify.kthSmallestMagnitude(a, 9_999));
        java.util.SplittableRandom random = new java.util.SplittableRandom(3);
        float[] b = new float[50_001];
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(-8, 3)));
        }
        b[17] = Float.POSITIVE_INFINITY;
        b[18] = -0f;
        float[] sorted = new float[b.length];
        for (int i = 0; i < b.length; i++) {
            sorted[i] = Math.abs(b[i]);
        }
        Arrays.sort(sorted);
        float[] copy = b.clone();
        for (int k : new int[] {0, 1, 2, 100, 25_000, 49_999, 50_000}) {
            assertEquals(sorted[k], Sparsify.kthSmallestMagnitude(b, k), "rank " + k);
        }
        assertArrayEquals(copy, b, "the deltas are not reordered");
    }

    private static float[] plus(float[] x, float[] y) {
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] + y[i];
        }
        return out;
    }
}
