package dev.easel.core.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.easel.core.train.optim.Gradients;
import dev.easel.core.train.optim.Optimizer;
import dev.easel.core.train.optim.Optimizers;
import dev.easel.core.train.optim.Prodigy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Updates checked against torch.optim's algorithms worked by hand on a scalar with a constant gradient 0.5. */
class OptimizerTest {
    private static float[] run(String type, String args, int steps, double lr) {
        try (NDManager m = TrainFixtures.RUNTIME.newManager()) {
            NDArray p = m.create(new float[] {1f});
            p.setRequiresGradient(true);
            Optimizer opt = Optimizers.create(type, args, m, w -> { });
            float[] out = new float[steps];
            for (int i = 0; i < steps; i++) {
                step(p, opt, lr);
                out[i] = p.getFloat();
            }
            return out;
        }
    }

    private static void step(NDArray p, Optimizer opt, double lr) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(p.mul(0.5f).sum());
        }
        opt.step(List.of(List.of(p)), new double[] {lr});
        Gradients.zero(List.of(p));
    }

    @Test
    void adamWMatchesTorch() {
        float[] p = run("AdamW", "weight_decay=0.01", 2, 0.1);
        assertEquals(0.899, p[0], 1e-6);
        assertEquals(0.999 * 0.899 - 0.1, p[1], 1e-6);
    }

    @Test
    void lionMatchesTheReference() {
        float[] p = run("Lion", "", 2, 0.1);
        assertEquals(0.9, p[0], 1e-6);
        assertEquals(0.8, p[1], 1e-6);
    }

    @Test
    void sgdNesterovMatchesTorch() {
        float[] p = run("SGDNesterov", "", 2, 0.1);
        assertEquals(0.905, p[0], 1e-6);
        assertEquals(0.7695, p[1], 1e-6);
        float[] plain = run("SGD", "momentum=0.9", 2, 0.1);
        assertEquals(0.95, plain[0], 1e-6);
        assertEquals(0.855, plain[1], 1e-6);
    }

    @Test
    void unknownNamesAndArgumentsAreRefused() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> run("Adafactorz", "", 1, 0.1)).getMessage()
                .contains("optimizer_type 'Adafactorz' is not supported"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> run("Lion", "eps=1", 1, 0.1)).getMessage()
                .contains("[eps] are not options of Lion"));
    }

    @Test
    void prodigyEstimatesItsStepSize() {
        try (NDManager m = TrainFixtures.RUNTIME.newManager()) {
            NDArray p = m.create(new float[] {1f});
            p.setRequiresGradient(true);
            Prodigy opt = (Prodigy) Optimizers.create("Prodigy", "", m, w -> { });
            step(p, opt, 1.0);
            assertEquals(1 - 3.16227e-6, p.getFloat(), 1e-7);
            assertEquals(1e-6, opt.d(), 1e-12, "d stays d0 while nothing has moved");
            step(p, opt, 1.0);
            assertEquals(1.5815e-6, opt.d(), 0.03e-6, "d grows with the distance travelled");
            assertThrows(IllegalArgumentException.class, () -> opt.step(List.of(List.of(p), List.of(p)),
                    new double[] {1.0, 0.5}));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"AdamW", "Lion", "SGDNesterov", "Prodigy"})
    void stateRestoresExactly(String type) {
        try (NDManager m = TrainFixtures.RUNTIME.newManager()) {
            NDArray p = m.create(new float[] {1f, -2f, 3f});
            p.setRequiresGradient(true);
            Optimizer opt = Optimizers.create(type, "", m, w -> { });
            for (int i = 0; i < 3; i++) {
                step(p, opt, 0.05);
            }
            Map<String, NDArray> saved = opt.state();
            Map<String, NDArray> copy = new java.util.LinkedHashMap<>();
            saved.forEach((k, v) -> copy.put(k, v.duplicate()));
            float[] at3 = p.toFloatArray();
            step(p, opt, 0.05);
            step(p, opt, 0.05);
            float[] straight = p.toFloatArray();

            NDArray q = m.create(at3);
            q.setRequiresGradient(true);
            Optimizer resumed = Optimizers.create(type, "", m, w -> { });
            resumed.restore(copy);
            step(q, resumed, 0.05);
            step(q, resumed, 0.05);
            assertArrayEquals(straight, q.toFloatArray());
        }
    }

    @Test
    void clippingScalesToTheGlobalNorm() {
        try (NDManager m = TrainFixtures.RUNTIME.newManager()) {
            NDArray a = m.create(new float[] {1f});
            NDArray b = m.create(new float[] {1f});
            a.setRequiresGradient(true);
            b.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(a.mul(3f).add(b.mul(4f)).sum());
            }
            List<NDArray> params = new ArrayList<>(List.of(a, b));
            assertEquals(5.0, Gradients.clip(params, 1.0), 1e-6);
            assertEquals(0.6f, a.getGradient().getFloat(), 1e-5);
            assertEquals(0.8f, b.getGradient().getFloat(), 1e-5);
        }
    }
}
