package dev.easel.core.adapter;

import java.util.Arrays;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.SingularOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.QRDecomposition;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;

/**
 * The SVDs behind resize, merge and extract, in double precision (EJML). A LoRA delta {@code up·down} of rank r has
 * its SVD in the factors alone: with {@code up = Qu·Ru} and {@code downᵀ = Qd·Rd} (thin QR), {@code up·down =
 * Qu·(Ru·Rdᵀ)·Qdᵀ}, so the SVD of the r×r core {@code Ru·Rdᵀ = Uc·S·Vcᵀ} gives {@code U = Qu·Uc}, {@code V = Qd·Vc}:
 * O((out+in)·r²) instead of the O(out·in·min(out,in)) of the full matrix that kohya's {@code resize_lora.py} builds.
 */
public final class LowRank {
    /** kohya's {@code MIN_SV}: a first singular value at or below it marks a zero delta. */
    static final double MIN_SV = 1e-6;

    private LowRank() {
    }

    /**
     * A thin SVD {@code M = U·diag(s)·Vᵀ}, singular values descending.
     *
     * @param u out×n
     * @param s n values
     * @param v in×n
     */
    public record Svd(DMatrixRMaj u, double[] s, DMatrixRMaj v) {
    }

    /** Factors of a rank-k approximation: {@code up = U_k·diag(S_k)} (out×k), {@code down = V_kᵀ} (k×in). */
    public record Factors(DMatrixRMaj up, DMatrixRMaj down) {
        public int rank() {
            return down.numRows;
        }
    }

    /** The SVD of a full matrix (what kohya's tools compute). */
    public static Svd full(DMatrixRMaj m) {
        SingularValueDecomposition_F64<DMatrixRMaj> svd =
                DecompositionFactory_DDRM.svd(m.numRows, m.numCols, true, true, true);
        if (!svd.decompose(m.copy())) {
            throw new ArithmeticException("SVD did not converge");
        }
        DMatrixRMaj u = svd.getU(null, false);
        DMatrixRMaj w = svd.getW(null);
        DMatrixRMaj v = svd.getV(null, false);
        SingularOps_DDRM.descendingOrder(u, false, w, v, false);
        int n = Math.min(w.numRows, w.numCols);
        double[] s = new double[n];
        for (int i = 0; i < n; i++) {
            s[i] = w.get(i, i);
        }
        return new Svd(u, s, v);
    }

    /** The SVD of {@code up·down} from the factors alone (see the class comment). */
    public static Svd ofProduct(DMatrixRMaj up, DMatrixRMaj down) {
        if (up.numCols != down.numRows) {
            throw new IllegalArgumentException("up is " + up.numRows + "x" + up.numCols + " but down is "
                    + down.numRows + "x" + down.numCols);
        }
        int r = up.numCols;
        if (r > Math.min(up.numRows, down.numCols)) {
            DMatrixRMaj m = new DMatrixRMaj(up.numRows, down.numCols);
            CommonOps_DDRM.mult(up, down, m);
            return full(m);
        }
        DMatrixRMaj[] qrUp = thinQr(up);
        DMatrixRMaj downT = new DMatrixRMaj(down.numCols, down.numRows);
        CommonOps_DDRM.transpose(down, downT);
        DMatrixRMaj[] qrDown = thinQr(downT);
        DMatrixRMaj core = new DMatrixRMaj(r, r);
        CommonOps_DDRM.multTransB(qrUp[1], qrDown[1], core);
        Svd c = full(core);
        DMatrixRMaj u = new DMatrixRMaj(up.numRows, c.u().numCols);
        CommonOps_DDRM.mult(qrUp[0], c.u(), u);
        DMatrixRMaj v = new DMatrixRMaj(down.numCols, c.v().numCols);
        CommonOps_DDRM.mult(qrDown[0], c.v(), v);
        return new Svd(u, c.s(), v);
    }

    private static DMatrixRMaj[] thinQr(DMatrixRMaj a) {
        QRDecomposition<DMatrixRMaj> qr = DecompositionFactory_DDRM.qr(a.numRows, a.numCols);
        if (!qr.decompose(a.copy())) {
            throw new ArithmeticException("QR failed");
        }
        return new DMatrixRMaj[] {qr.getQ(null, true), qr.getR(null, true)};
    }

    /** The rank-k factors of an SVD ({@code k} is capped at the number of singular values). */
    public static Factors truncate(Svd svd, int k) {
        int n = Math.min(k, svd.s().length);
        DMatrixRMaj up = new DMatrixRMaj(svd.u().numRows, n);
        DMatrixRMaj down = new DMatrixRMaj(n, svd.v().numRows);
        for (int i = 0; i < svd.u().numRows; i++) {
            for (int j = 0; j < n; j++) {
                up.set(i, j, svd.u().get(i, j) * svd.s()[j]);
            }
        }
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < svd.v().numRows; i++) {
                down.set(j, i, svd.v().get(i, j));
            }
        }
        return new Factors(up, down);
    }

    /**
     * The new rank as kohya's {@code resize_lora.py rank_resize} picks it: {@code cap} for a fixed resize; for the
     * dynamic methods the needed count clamped to [1, len(S)−1] plus one, capped at {@code cap}; 1 for a zero delta.
     *
     * @param method {@code null} (fixed), {@code sv_ratio}, {@code sv_cumulative} or {@code sv_fro}
     */
    public static int rank(double[] s, String method, double param, int cap) {
        int k;
        if (method == null) {
            k = cap;
        } else {
            int index = switch (method) {
                case "sv_ratio" -> {
                    double min = s[0] / param;
                    int c = 0;
                    for (double v : s) {
                        if (v > min) {
                            c++;
                        }
                    }
                    yield c;
                }
                case "sv_cumulative" -> searchsorted(cumulative(s, false), param) + 1;
                case "sv_fro" -> searchsorted(cumulative(s, true), param * param) + 1;
                default -> throw new IllegalArgumentException("unknown dynamic method '" + method
                        + "' (sv_ratio, sv_cumulative, sv_fro)");
            };
            index = Math.max(1, Math.min(index, s.length - 1));
            k = index + 1;
        }
        if (s.length == 0 || s[0] <= MIN_SV) {
            return 1;
        }
        return Math.max(1, Math.min(k, cap));
    }

    private static double[] cumulative(double[] s, boolean squared) {
        double[] c = new double[s.length];
        double total = 0;
        for (int i = 0; i < s.length; i++) {
            total += squared ? s[i] * s[i] : s[i];
            c[i] = total;
        }
        for (int i = 0; i < c.length; i++) {
            c[i] /= total;
        }
        return c;
    }

    /** torch.searchsorted (left): the first index whose value is >= target. */
    private static int searchsorted(double[] sorted, double target) {
        int i = 0;
        while (i < sorted.length && sorted[i] < target) {
            i++;
        }
        return i;
    }

    /**
     * kohya's {@code clamp_quantile}: both factors clamped to [−q, q] with q the quantile of their concatenated signed
     * values (torch.quantile's linear interpolation). {@code quantile >= 1} leaves them unchanged.
     */
    public static void clampQuantile(Factors f, double quantile) {
        if (quantile >= 1) {
            return;
        }
        double[] all = new double[f.up().data.length + f.down().data.length];
        System.arraycopy(f.up().data, 0, all, 0, f.up().getNumElements());
        System.arraycopy(f.down().data, 0, all, f.up().getNumElements(), f.down().getNumElements());
        Arrays.sort(all);
        double pos = quantile * (all.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(all.length - 1, lo + 1);
        double q = all[lo] + (all[hi] - all[lo]) * (pos - lo);
        for (DMatrixRMaj m : new DMatrixRMaj[] {f.up(), f.down()}) {
            for (int i = 0; i < m.getNumElements(); i++) {
                m.data[i] = Math.max(-q, Math.min(q, m.data[i]));
            }
        }
    }

    /** The Frobenius share {@code sqrt(Σ_{i<k} s_i² / Σ s_i²)} a rank-k truncation keeps. */
    public static double retained(double[] s, int k) {
        double kept = 0;
        double total = 0;
        for (int i = 0; i < s.length; i++) {
            total += s[i] * s[i];
            if (i < k) {
                kept += s[i] * s[i];
            }
        }
        return total == 0 ? 1 : Math.sqrt(kept / total);
    }
}
