package dev.easel.core.adapter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.RandomMatrices_DDRM;
import org.junit.jupiter.api.Test;

/** The SVD paths and kohya's rank rules (reference vector 12). */
class LowRankTest {
    @Test
    void vector12DynamicRanks() {
        double[] s = {10, 5, 1, 0.1};
        assertEquals(3, LowRank.rank(s, "sv_ratio", 4, 4));
        assertEquals(3, LowRank.rank(s, "sv_cumulative", 0.9, 4));
        assertEquals(3, LowRank.rank(s, "sv_fro", 0.9, 4));
        assertEquals(2, LowRank.rank(s, "sv_fro", 0.9, 2));
        assertEquals(4, LowRank.rank(s, null, 0, 4));
        assertEquals(1, LowRank.rank(new double[] {1e-7, 0}, null, 0, 4));
        assertEquals(2, LowRank.rank(s, "sv_ratio", 1.5, 4), "clamped below at 1, then + 1");
    }

    @Test
    void factorSvdEqualsFullSvd() {
        Random r = new Random(3);
        DMatrixRMaj up = RandomMatrices_DDRM.rectangle(40, 8, -1, 1, r);
        DMatrixRMaj down = RandomMatrices_DDRM.rectangle(8, 30, -1, 1, r);
        DMatrixRMaj m = new DMatrixRMaj(40, 30);
        CommonOps_DDRM.mult(up, down, m);
        LowRank.Svd small = LowRank.ofProduct(up, down);
        LowRank.Svd full = LowRank.full(m);
        for (int i = 0; i < 8; i++) {
            assertEquals(full.s()[i], small.s()[i], 1e-9 * full.s()[0]);
        }
        for (int k : new int[] {3, 8}) {
            DMatrixRMaj a = product(LowRank.truncate(small, k));
            DMatrixRMaj b = product(LowRank.truncate(full, k));
            assertArrayEquals(b.data, a.data, 1e-9);
        }
        assertArrayEquals(m.data, product(LowRank.truncate(small, 8)).data, 1e-9);
    }

    private static DMatrixRMaj product(LowRank.Factors f) {
        DMatrixRMaj m = new DMatrixRMaj(f.up().numRows, f.down().numCols);
        CommonOps_DDRM.mult(f.up(), f.down(), m);
        return m;
    }

    @Test
    void clampQuantileUsesTorchInterpolation() {
        DMatrixRMaj up = new DMatrixRMaj(new double[][] {{1, 2}, {3, 4}});
        DMatrixRMaj down = new DMatrixRMaj(new double[][] {{-5, 6, 7}, {8, 9, 10}});
        LowRank.Factors f = new LowRank.Factors(up, down);
        // sorted: -5 1 2 3 4 6 7 8 9 10; quantile 0.9 -> position 8.1 -> 9 + 0.1 = 9.1
        LowRank.clampQuantile(f, 0.9);
        assertEquals(-5, down.get(0, 0), 1e-12);
        assertEquals(9.1, down.get(1, 2), 1e-12);
        assertEquals(9, down.get(1, 1), 1e-12);
    }

    @Test
    void pythonFloatSpelling() {
        assertEquals("16.0", KohyaMetadata.pyFloat(16));
        assertEquals("0.5", KohyaMetadata.pyFloat(0.5));
        assertEquals("0.001", KohyaMetadata.pyFloat(1e-3));
        assertEquals("1e-05", KohyaMetadata.pyFloat(1e-5));
    }
}
