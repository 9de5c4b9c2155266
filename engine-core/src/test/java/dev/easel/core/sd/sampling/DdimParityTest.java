package dev.easel.core.sd.sampling;

import static dev.easel.core.sd.ParityFixtures.maxAbsDiff;
import static dev.easel.core.sd.ParityFixtures.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.easel.core.format.safetensors.SafetensorsReader;
import dev.easel.core.sd.ParityFixtures;
import dev.easel.core.sd.model.ModelConfigs;
import dev.easel.core.sd.model.SdModel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** 4-step DDIM with guidance 7 against ldm's DDIMSampler, and the conditioning the pipeline builds. */
class DdimParityTest {
    private static void near(NDArray expected, NDArray actual, double tol, String what) {
        double d = maxAbsDiff(expected, actual);
        System.out.printf("parity %-16s max abs error %.3g (tolerance %.0e)%n", what, d, tol);
        assertTrue(d <= tol, what + ": max abs error " + d + " > " + tol);
    }

    @Test
    void ddimWithGuidanceMatchesLdm() throws Exception {
        try (NDManager m = ParityFixtures.runtime().newManager();
             SafetensorsReader w = SafetensorsReader.open(ParityFixtures.model());
             SafetensorsReader v = SafetensorsReader.open(ParityFixtures.resource("tiny-sd1-vectors.safetensors"));
             SdModel model = SdModel.load(w, ModelConfigs.resolve(ParityFixtures.model(), w, null), m)) {
            DdimSampler ddim = new DdimSampler(model.schedule(), 4);
            assertArrayEquals(new int[] {1, 251, 501, 751}, ddim.timesteps());
            long[] ts = read(v, "ddim.timesteps", m).toLongArray();
            assertArrayEquals(new long[] {751, 501, 251, 1}, ts);
            float[] alphas = read(v, "ddim.alphas", m).toFloatArray();
            float[] alphasPrev = read(v, "ddim.alphas_prev", m).toFloatArray();
            for (int i = 0; i < 4; i++) {
                assertEquals(alphas[i], model.schedule().alphaCumprod((int) ts[i]));
            }
            assertEquals(alphasPrev[3], model.schedule().alphaCumprod(0));

            TextConditioner conditioner = new TextConditioner(model.tokenizer(), model.textEncoder());
            NDArray cond = conditioner.encode(m, "a red circle", 1, 1);
            NDArray uncond = conditioner.encode(m, "", 1, 1);
            near(read(v, "ddim.cond", m), cond, 1e-4, "ddim.cond");
            near(read(v, "ddim.uncond", m), uncond, 1e-4, "ddim.uncond");

            List<NDArray> xs = new ArrayList<>();
            List<NDArray> x0s = new ArrayList<>();
            GuidedDenoiser denoiser = new GuidedDenoiser(model.unet(), cond, uncond, 7f, List.of());
            NDArray out = ddim.sample(denoiser, read(v, "ddim.noise", m), (i, t, x, x0) -> {
                NDArray cx = x.duplicate();
                NDArray cx0 = x0.duplicate();
                cx.attach(m);
                cx0.attach(m);
                xs.add(cx);
                x0s.add(cx0);
            });
            NDArray stepX = read(v, "ddim.step_x", m);
            NDArray predX0 = read(v, "ddim.pred_x0", m);
            for (int i = 0; i < 4; i++) {
                near(stepX.get(i), xs.get(i), 1e-3, "ddim.step_x[" + i + "]");
                near(predX0.get(i), x0s.get(i), 1e-3, "ddim.pred_x0[" + i + "]");
            }
            near(read(v, "ddim.out", m), out, 1e-3, "ddim.out");
            NDArray image = model.vae().decode(out.mul((float) (1.0 / model.config().vae().scaleFactor())));
            near(read(v, "ddim.image", m), image, 1e-3, "ddim.image");
        }
    }
}
