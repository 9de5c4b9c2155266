package dev.easel.core.sd.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.easel.api.training.GuidanceHook;
import dev.easel.core.sd.ParityFixtures;
import dev.easel.core.sd.hooks.SdNetworkHooks;
import dev.easel.core.sd.model.RandomModels;
import dev.easel.core.sd.model.SdModel;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The tiny pipeline end to end in Java: shapes, determinism, memory, guidance hooks, img2img. */
class PipelineTest {
    @Test
    void txt2imgAndImg2imgOnATinyModel() {
        try (NDManager root = ParityFixtures.runtime().newManager();
             SdModel model = SdModel.random(RandomModels.tinyConfig(), 4, root)) {
            SdNetworkHooks hooks = new SdNetworkHooks(model, root);
            Pipeline p = new Pipeline(model, hooks);
            assertEquals(4, p.sizeMultiple());
            assertEquals(new Shape(1, 4, 8, 12), p.latentShape(24, 16));
            assertThrows(IllegalArgumentException.class, () -> p.latentShape(10, 16));
            int modelArrays = model.manager().getManagedArrays().size();
            GenerationRequest r = GenerationRequest.txt2img("a (red:1.3) circle", "blue", SamplerKind.EULER_A, 3, 5f,
                    11, 16, 16);
            float[] first;
            try (NDManager m = root.newSubManager()) {
                Pipeline.Output out = p.generate(m, r, null, null, StepListener.NONE);
                assertEquals(new Shape(1, 3, 16, 16), out.image().getShape());
                first = out.latent().toFloatArray();
                for (float v : first) {
                    assertFalse(Float.isNaN(v));
                }
            }
            assertEquals(modelArrays, model.manager().getManagedArrays().size(), "sampling leaves no arrays behind");
            try (NDManager m = root.newSubManager()) {
                float[] again = p.generate(m, r, null, null, StepListener.NONE).latent().toFloatArray();
                assertEquals(java.util.Arrays.toString(first), java.util.Arrays.toString(again), "deterministic");
            }
            AtomicInteger unconditional = new AtomicInteger();
            hooks.onGuidance(new GuidanceHook() {
                @Override
                public NDArray unconditional(int stepIndex, NDArray context) {
                    unconditional.incrementAndGet();
                    return context;
                }
            });
            try (NDManager m = root.newSubManager()) {
                NDArray image = Images.fromImage(m, Images.toImage(m.zeros(new Shape(1, 3, 16, 16))), 16, 16);
                GenerationRequest i2i = new GenerationRequest("a circle", "", SamplerKind.DDIM, 10, 7f, 1, 16, 16, 0,
                        0.5f);
                Pipeline.Output out = p.generate(m, i2i, null, image, StepListener.NONE);
                assertEquals(new Shape(1, 4, 8, 8), out.latent().getShape());
                assertEquals(5, unconditional.get(), "img2img at strength 0.5 runs half the steps");
            }
        }
    }

    @Test
    void trainingHelpersAreDeterministic() {
        try (NDManager root = ParityFixtures.runtime().newManager();
             SdModel a = SdModel.random(RandomModels.tinyConfig(), 4, root);
             SdModel b = SdModel.random(RandomModels.tinyConfig(), 4, root);
             SdModel c = SdModel.random(RandomModels.tinyConfig(), 5, root)) {
            assertEquals(a.vaeFingerprint(), b.vaeFingerprint());
            assertFalse(a.vaeFingerprint().equals(c.vaeFingerprint()));
            assertEquals(2, a.latentScale());
            NDArray pixels = new NoiseSource(1).next(root, new Shape(1, 3, 16, 16)).clip(-1f, 1f);
            NDArray l1 = a.encodeImages(pixels);
            assertEquals(new Shape(1, 4, 8, 8), l1.getShape());
            assertEquals(0f, l1.sub(a.encodeImages(pixels)).abs().max().getFloat());
            assertEquals(new Shape(1, 3, 16, 16), a.decodeLatents(l1).getShape());
        }
    }

    @Test
    void imagesRoundTripLikeA1111() {
        try (NDManager m = ParityFixtures.runtime().newManager()) {
            NDArray x = m.create(new float[] {-1f, 0f, 1f, 2f, -1f, -1f, 0.5f, 0.5f, 0f, 0f, 0f, 0f},
                    new Shape(1, 3, 2, 2));
            var img = Images.toImage(x);
            assertEquals(0x00007f, img.getRGB(0, 0) & 0xffffff, "(-1, -1, 0) -> 0, 0, 127.5 truncated");
            assertEquals(0, (img.getRGB(0, 0) >> 16) & 0xff);
            assertEquals(191, (img.getRGB(0, 1) >> 8) & 0xff, "(0.5+1)/2*255 = 191.25 truncated");
            assertEquals(255, (img.getRGB(1, 1) >> 16) & 0xff, "clamped");
            NDArray back = Images.fromImage(m, img, 2, 2);
            assertTrue(back.sub(x.clip(-1f, 1f)).abs().max().getFloat() < 0.01f);
        }
    }
}
