package dev.easel.core.sd.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.model.Component;
import dev.easel.core.sd.ParityFixtures;
import org.junit.jupiter.api.Test;

/** The building blocks on inputs small enough to check by hand. */
class BlocksTest {
    private static WeightSource fixed(NDManager m, float scale, float shift) {
        return (key, shape, kind) -> kind == ParamKind.NORM_SCALE || kind == ParamKind.WEIGHT
                ? m.ones(new Shape(shape)).mul(scale) : m.ones(new Shape(shape)).mul(shift);
    }

    private static Layer.Spec spec(String name) {
        return new Layer.Spec(Component.UNET, name, name, new NetworkState());
    }

    @Test
    void groupNormNormalisesEachGroup() {
        try (NDManager m = ParityFixtures.runtime().newManager()) {
            GroupNorm gn = new GroupNorm(spec("gn"), 2, 4, 0f, fixed(m, 2f, 1f));
            // group 0 = channels 0,1 = values 1,3 / 5,7 -> mean 4, var 5; group 1 constant + 0/2 offsets
            NDArray x = m.create(new float[] {1, 3, 5, 7, 0, 0, 2, 2}, new Shape(1, 4, 1, 2));
            float[] y = gn.apply(x).toFloatArray();
            float s5 = (float) Math.sqrt(5);
            float[] expected = {2 * -3 / s5 + 1, 2 * -1 / s5 + 1, 2 * 1 / s5 + 1, 2 * 3 / s5 + 1, -1, -1, 3, 3};
            for (int i = 0; i < y.length; i++) {
                assertEquals(expected[i], y[i], 1e-5, "element " + i);
            }
        }
    }

    @Test
    void linearAndConvComputeTheirFormulas() {
        try (NDManager m = ParityFixtures.runtime().newManager()) {
            Linear lin = new Linear(spec("lin"), 3, 2, true, fixed(m, 1f, 0.5f));
            assertArrayEquals(new float[] {6.5f, 6.5f}, lin.apply(m.create(new float[] {1, 2, 3}, new Shape(1, 3)))
                    .toFloatArray());
            Conv2d conv = new Conv2d(spec("conv"), 1, 1, 3, 1, 1, fixed(m, 1f, 0f));
            // box filter with zero padding: centre sees all 9 ones, a corner 4
            NDArray y = conv.apply(m.ones(new Shape(1, 1, 3, 3)));
            assertEquals(9f, y.getFloat(0, 0, 1, 1));
            assertEquals(4f, y.getFloat(0, 0, 0, 0));
        }
    }

    @Test
    void attentionWithOneKeyReturnsItsValue() {
        try (NDManager m = ParityFixtures.runtime().newManager()) {
            NDArray q = m.randomNormal(new Shape(1, 5, 4));
            NDArray k = m.randomNormal(new Shape(1, 1, 4));
            NDArray v = m.create(new float[] {1, 2, 3, 4}, new Shape(1, 1, 4));
            NDArray out = Ops.attention(q, k, v, 2, 0.5f, null, false);
            for (int i = 0; i < 5; i++) {
                assertArrayEquals(new float[] {1, 2, 3, 4}, out.get(0, i).toFloatArray(), 1e-6f);
            }
            // a causal mask makes the first query see only the first key
            NDArray k2 = m.create(new float[] {0, 0, 0, 0, 9, 9, 9, 9}, new Shape(1, 2, 4));
            NDArray v2 = m.create(new float[] {1, 1, 1, 1, 5, 5, 5, 5}, new Shape(1, 2, 4));
            NDArray mask = m.create(new float[] {0, -Float.MAX_VALUE, 0, 0}, new Shape(2, 2));
            NDArray o2 = Ops.attention(m.ones(new Shape(1, 2, 4)), k2, v2, 1, 1f, mask, true);
            assertArrayEquals(new float[] {1, 1, 1, 1}, o2.get(0, 0).toFloatArray(), 1e-6f);
        }
    }

    @Test
    void upsamplingRepeatsEachPixel() {
        try (NDManager m = ParityFixtures.runtime().newManager()) {
            NDArray x = m.create(new float[] {1, 2, 3, 4}, new Shape(1, 1, 2, 2));
            assertArrayEquals(new float[] {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4},
                    Ops.upsampleNearest2x(x).toFloatArray());
        }
    }

    @Test
    void addedEmbeddingRowsFollowTheTable() {
        try (NDManager m = ParityFixtures.runtime().newManager()) {
            Embedding e = new Embedding(new Layer.Spec(Component.TEXT_ENCODER, "emb", "emb", new NetworkState()), 3, 2,
                    (key, shape, kind) -> m.create(new float[] {0, 0, 1, 1, 2, 2}, new Shape(shape)));
            assertEquals(3, e.addRows(m.create(new float[] {7, 8}, new Shape(1, 2))));
            NDArray y = e.apply(m.create(new long[] {3, 1}, new Shape(1, 2)));
            assertArrayEquals(new float[] {7, 8, 1, 1}, y.toFloatArray());
        }
    }
}
