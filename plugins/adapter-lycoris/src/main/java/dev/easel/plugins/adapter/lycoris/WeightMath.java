package dev.easel.plugins.adapter.lycoris;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/** The constructions the LyCORIS algorithms share: scales, products, Tucker rebuilds, Kronecker, Cayley. */
final class WeightMath {
    private WeightMath() {
    }

    /** The value of a 0-d or one-element tensor (kohya writes 0-d, LyCORIS extraction a one-element fp16 vector). */
    static float scalar(NDArray a) {
        if (a.getShape().size() != 1) {
            throw new IllegalArgumentException("expected a scalar, got a tensor of shape " + a.getShape());
        }
        return a.toType(DataType.FLOAT32, false).toFloatArray()[0];
    }

    /** alpha / rank, or 1 without alpha. */
    static float scale(NDArray alpha, long rank) {
        return alpha == null ? 1f : scalar(alpha) / rank;
    }

    /** {@code flat(a) @ flat(b)}: a as {@code rows×k}, b as {@code k×rest}. */
    static NDArray product(NDArray a, NDArray b) {
        long rows = a.getShape().get(0);
        long k = a.getShape().size() / rows;
        return a.reshape(rows, k).matMul(b.reshape(k, b.getShape().size() / k));
    }

    /**
     * The Tucker rebuild with {@code wa} as {@code r×out} (LoHa/LoKr) or {@code out×r} ({@code upFirst}):
     * {@code W[o,c,h,w] = Σ wa[p,o] t[p,q,h,w] wb[q,c]}.
     */
    static NDArray tucker(NDArray t, NDArray wa, NDArray wb, boolean upFirst) {
        Shape ts = t.getShape();
        long p = ts.get(0);
        long q = ts.get(1);
        long kh = ts.get(2);
        long kw = ts.get(3);
        NDArray a2 = upFirst ? wa.reshape(wa.getShape().get(0), p) : wa.reshape(p, wa.getShape().size() / p).transpose();
        long out = a2.getShape().get(0);
        NDArray b2 = wb.reshape(q, wb.getShape().size() / q);
        long in = b2.getShape().get(1);
        NDArray x = a2.matMul(t.reshape(p, q * kh * kw)).reshape(out, q, kh, kw);
        NDArray y = x.transpose(0, 2, 3, 1).reshape(out * kh * kw, q).matMul(b2);
        return y.reshape(out, kh, kw, in).transpose(0, 3, 1, 2);
    }

    /** Kronecker product of a 2-d {@code a} ({@code m×n}) and {@code b} ({@code p×q×...}): {@code mp×nq×...}. */
    static NDArray kron(NDArray a, NDArray b) {
        Shape bs = b.getShape();
        long m = a.getShape().get(0);
        long n = a.getShape().get(1);
        long p = bs.get(0);
        long q = bs.get(1);
        long[] tail = new long[bs.dimension() - 2];
        for (int i = 0; i < tail.length; i++) {
            tail[i] = bs.get(i + 2);
        }
        long[] aShape = concat(new long[] {m, 1, n, 1}, ones(tail.length));
        long[] bShape = concat(new long[] {1, p, 1, q}, tail);
        NDArray r = a.reshape(aShape).mul(b.reshape(bShape));
        return r.reshape(concat(new long[] {m * p, n * q}, tail));
    }

    /** Reshapes a delta onto the weight, naming the module when the sizes differ. */
    static NDArray fit(NDArray delta, NDArray base, String module) {
        if (base == null) {
            return delta;
        }
        if (delta.getShape().size() != base.getShape().size()) {
            throw new IllegalArgumentException(module + ": the delta " + delta.getShape() + " does not fit the weight "
                    + base.getShape());
        }
        return delta.reshape(base.getShape());
    }

    static NDArray requireBase(NDArray base, String module, String type) {
        if (base == null) {
            throw new IllegalArgumentException(module + ": " + type + " needs the base weight to compute its delta");
        }
        return base;
    }

    /**
     * The Cayley rotations {@code R = (I + Q)(I - Q)^-1} of {@code Q = B - Bᵀ} for every block of {@code blocks}
     * ({@code ...×bs×bs}), with Q rescaled to Frobenius norm {@code constraint} (over all blocks) when it exceeds it
     * and {@code constraint > 0}. {@code kohyaClamp} uses kohya's {@code (min(n,c)+1e-8)/(n+1e-8)} factor, otherwise
     * LyCORIS's {@code c / (n + 1e-8)} once {@code n + 1e-8 > c}.
     */
    static NDArray cayley(NDArray blocks, double constraint, boolean kohyaClamp, NDManager manager) {
        Shape s = blocks.getShape();
        int bs = (int) s.get(s.dimension() - 1);
        NDArray q = blocks.sub(blocks.swapAxes(-1, -2));
        if (constraint > 0) {
            double norm = q.norm().toType(DataType.FLOAT64, false).getDouble();
            if (kohyaClamp) {
                q = q.mul((float) ((Math.min(norm, constraint) + 1e-8) / (norm + 1e-8)));
            } else if (norm + 1e-8 > constraint) {
                q = q.mul((float) (constraint / (norm + 1e-8)));
            }
        }
        NDArray eye = manager.eye(bs).broadcast(s);
        return eye.add(q).matMul(eye.sub(q).inverse());
    }

    static long[] ones(int n) {
        long[] r = new long[n];
        java.util.Arrays.fill(r, 1);
        return r;
    }

    static long[] concat(long[] a, long[] b) {
        long[] r = new long[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
