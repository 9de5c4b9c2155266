package dev.easel.core.sd.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.easel.api.model.Component;
import dev.easel.api.model.ModuleKind;
import dev.easel.core.runtime.FreedMemory;
import dev.easel.core.runtime.TorchOwned;
import dev.easel.core.sd.ParityFixtures;
import dev.easel.core.sd.model.RandomModels;
import dev.easel.core.sd.model.SdModel;
import dev.easel.core.train.loop.DiffusionLoss;
import dev.easel.core.train.loop.ElementLoss;
import dev.easel.core.train.loop.LossOptions;
import dev.easel.core.train.loop.NoiseSchedule;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The regression test of the intermittent NaN gradient: the backward pass of the text encoder, the UNet and the
 * diffusion loss reads only memory libtorch owns, so a garbage collection between forward and backward (here
 * forced, and the freed memory overwritten with NaNs) changes no gradient. Before the fix, every product with a Java
 * number (attention scale, QuickGELU, Huber's factor 2, the accumulation divisor) read a freed scalar.
 */
class BackwardAfterGarbageCollectionTest {
    @Test
    void gradientsOfTextEncoderUnetAndLossAreUnchangedByAGarbageCollection() {
        try (NDManager manager = ParityFixtures.runtime().newManager()) {
            SdModel model = SdModel.random(RandomModels.tinyConfig(), 5, manager);
            SdDiffusionModel sd = new SdDiffusionModel(model, 1);
            List<NDArray> params = sd.hooks().trainBaseWeights(m -> m.component() != Component.VAE
                    && (m.kind() == ModuleKind.LINEAR || m.kind() == ModuleKind.CONV2D));
            NoiseSchedule schedule = new NoiseSchedule(manager, "epsilon");
            LossOptions huberMinSnr = new LossOptions(false, new ElementLoss("huber", 0.1, "snr", 1), 5, false,
                    false, 1, 0, false, 0, 0, 0.3, 0, false, 0, 1000);

            List<float[]> clean = gradients(sd, schedule, huberMinSnr, params, manager, false);
            List<float[]> collected = gradients(sd, schedule, huberMinSnr, params, manager, true);
            assertEquals(clean.size(), collected.size());
            for (int i = 0; i < clean.size(); i++) {
                float[] a = clean.get(i);
                float[] b = collected.get(i);
                for (int j = 0; j < a.length; j++) {
                    assertTrue(Float.isFinite(b[j]), "parameter " + i + " element " + j + ": " + b[j]);
                    assertEquals(a[j], b[j], 1e-5 * Math.max(1, Math.abs(a[j])), "parameter " + i + " element " + j);
                }
            }
            model.close();
        }
    }

    private static List<float[]> gradients(SdDiffusionModel sd, NoiseSchedule schedule, LossOptions options,
                                           List<NDArray> params, NDManager manager, boolean collect) {
        try (NDScope scope = new NDScope()) {
            Random r = new Random(11);
            float[] x = new float[2 * 4 * 8 * 8];
            float[] e = new float[x.length];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
                e[i] = (float) r.nextGaussian();
            }
            NDArray x0 = manager.create(x, new Shape(2, 4, 8, 8));
            NDArray noise = manager.create(e, new Shape(2, 4, 8, 8));
            NDArray t = manager.create(new long[] {120, 730});
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                // an emphasis weight, so the weighted-prompt product is on the path too
                NDArray context = sd.encodeText(List.of("a (red:1.2) square", "a blue square"));
                NDArray prediction = sd.predict(schedule.addNoise(x0, noise, t), t, context);
                NDArray loss = DiffusionLoss.perSample(schedule, options, prediction, x0, noise, t,
                        List.of(false, false));
                NDArray total = TorchOwned.div(loss.sum(), 2);
                if (collect) {
                    FreedMemory.poison();
                }
                gc.backward(total);
            }
            List<float[]> out = new ArrayList<>();
            for (NDArray p : params) {
                out.add(p.getGradient().toFloatArray());
                p.getGradient().set(new ai.djl.ndarray.index.NDIndex("..."), 0);
            }
            return out;
        }
    }
}
