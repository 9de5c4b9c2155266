package dev.easel.core.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.easel.core.sd.ParityFixtures;
import org.junit.jupiter.api.Test;

/** Products with Java numbers and Java data differentiate correctly after the GC has run between forward and backward. */
class TorchOwnedTest {
    @Test
    void gradientsOfScalarAndArrayProductsSurviveTheGarbageCollector() {
        try (NDManager m = ParityFixtures.runtime().newManager()) {
            NDArray x = m.create(new float[] {1, -2, 3, 4}, new Shape(4));
            x.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray w = TorchOwned.create(m, new float[] {0.5f, 1, 2, 4}, new Shape(4));
                NDArray y = TorchOwned.div(TorchOwned.mul(x, 3).mul(w), 2).sum();
                w.close();
                FreedMemory.poison();
                gc.backward(y);
            }
            assertArrayEquals(new float[] {0.75f, 1.5f, 3f, 6f}, x.getGradient().toFloatArray());
        }
    }
}
