package dev.easel.plugins.adapter.kohya;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;

/**
 * {@code up @ down} (and the Tucker {@code up · mid · down}) reshaped onto the adapted weight, the construction kohya's
 * {@code merge_lora.py}, ComfyUI and A1111 share. For a 3x3 down with a 1x1 up, flattening both and multiplying is
 * the same as kohya's {@code conv2d(down.permute(1,0,2,3), up)}.
 */
final class LowRankDelta {
    private LowRankDelta() {
    }

    /**
     * The unscaled product.
     *
     * @param target the adapted weight's shape, or {@code null} to use the factors' natural shape
     */
    static NDArray product(NDArray up, NDArray down, NDArray mid, Shape target, String module) {
        long out = up.getShape().get(0);
        long rank = up.getShape().size() / out;
        NDArray up2 = up.reshape(out, rank);
        NDArray result;
        Shape natural;
        if (mid != null) {
            Shape ms = mid.getShape();
            long downRank = down.getShape().get(0);
            long in = down.getShape().size() / downRank;
            if (ms.dimension() != 4 || ms.get(0) != rank || ms.get(1) != downRank) {
                throw new IllegalArgumentException(module + ": lora_mid.weight " + ms + " does not join lora_up "
                        + up.getShape() + " and lora_down " + down.getShape());
            }
            long kh = ms.get(2);
            long kw = ms.get(3);
            // up[o,i] mid[i,j,h,w] down[j,c]: contract i, then j, keeping the kernel axes together.
            NDArray t = up2.matMul(mid.reshape(rank, downRank * kh * kw)).reshape(out, downRank, kh, kw);
            NDArray u = t.transpose(0, 2, 3, 1).reshape(out * kh * kw, downRank).matMul(down.reshape(downRank, in));
            result = u.reshape(out, kh, kw, in).transpose(0, 3, 1, 2);
            natural = new Shape(out, in, kh, kw);
        } else {
            long downRank = down.getShape().get(0);
            if (downRank != rank) {
                throw new IllegalArgumentException(module + ": lora_up " + up.getShape() + " and lora_down "
                        + down.getShape() + " disagree on the rank");
            }
            long inFlat = down.getShape().size() / downRank;
            result = up2.matMul(down.reshape(downRank, inFlat));
            Shape ds = down.getShape();
            natural = ds.dimension() == 4 ? new Shape(out, ds.get(1), ds.get(2), ds.get(3)) : new Shape(out, inFlat);
        }
        Shape shape = target == null ? natural : target;
        if (shape.size() != result.getShape().size()) {
            throw new IllegalArgumentException(module + ": the delta " + Arrays.toString(natural.getShape())
                    + " does not fit the weight " + Arrays.toString(shape.getShape()));
        }
        return result.reshape(shape);
    }

    /** {@code [scale·up (out×r), down (r×in·kh·kw)]}, checked to agree on the rank. */
    static NDArray[] factors(NDArray up, NDArray down, double scale, String module) {
        long out = up.getShape().get(0);
        long rank = up.getShape().size() / out;
        long downRank = down.getShape().get(0);
        if (downRank != rank) {
            throw new IllegalArgumentException(module + ": lora_up " + up.getShape() + " and lora_down "
                    + down.getShape() + " disagree on the rank");
        }
        return new NDArray[] {up.reshape(out, rank).mul((float) scale),
            down.reshape(downRank, down.getShape().size() / downRank)};
    }

    /** alpha / rank, 1 when the file stores no alpha (every tool's convention); an explicit {@code scale} wins. */
    static float scale(NDArray alpha, NDArray scale, long rank) {
        if (scale != null) {
            return scale.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray()[0];
        }
        if (alpha == null) {
            return 1f;
        }
        return scalar(alpha) / rank;
    }

    /** The value of a 0-d or one-element tensor of any type (kohya 0-d, svd_merge int64, LyCORIS [rank] fp16). */
    static float scalar(NDArray a) {
        if (a.getShape().size() != 1) {
            throw new IllegalArgumentException("expected a scalar, got a tensor of shape " + a.getShape());
        }
        return a.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray()[0];
    }
}
