package dev.easel.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.easel.core.train.optim.Gradients;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Zeroing gradients between steps. */
class GradientsTest {
    @Test
    void zeroClearsNonFiniteGradients() {
        try (NDManager m = TrainFixtures.RUNTIME.newManager()) {
            NDArray p = m.create(new float[] {1, 2, 3});
            p.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(p.mul(Float.NaN).sum());
            }
            assertTrue(Double.isNaN(Gradients.globalNorm(List.of(p))));
            Gradients.zero(List.of(p));
            assertArrayEquals(new float[] {0, 0, 0}, p.getGradient().toFloatArray());
        }
    }
}
