package dev.easel.core.sd.model;

import static dev.easel.core.sd.ParityFixtures.maxAbsDiff;
import static dev.easel.core.sd.ParityFixtures.read;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.easel.core.format.safetensors.SafetensorsReader;
import dev.easel.core.sd.ParityFixtures;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The tiny SD1 model against vectors computed by the Stability-AI ldm code (see test resources parity/README.md for
 * provenance and tolerances).
 */
class ParityTest {
    private static NDManager manager;
    private static SafetensorsReader weights;
    private static SafetensorsReader vectors;
    private static SdModel model;

    @BeforeAll
    static void load() throws Exception {
        manager = ParityFixtures.runtime().newManager();
        weights = SafetensorsReader.open(ParityFixtures.model());
        vectors = SafetensorsReader.open(ParityFixtures.resource("tiny-sd1-vectors.safetensors"));
        SdModelConfig config = ModelConfigs.resolve(ParityFixtures.model(), weights, null);
        model = SdModel.load(weights, config, manager);
    }

    @AfterAll
    static void close() throws Exception {
        model.close();
        weights.close();
        vectors.close();
        manager.close();
    }

    private NDArray v(NDManager m, String name) {
        return read(vectors, name, m);
    }

    private static void near(NDArray expected, NDArray actual, double tol, String what) {
        double d = maxAbsDiff(expected, actual);
        System.out.printf("parity %-16s max abs error %.3g (tolerance %.0e)%n", what, d, tol);
        assertTrue(d <= tol, what + ": max abs error " + d + " > " + tol);
    }

    @Test
    void configBesideTheCheckpointIsFound() {
        assertEquals(32, model.config().unet().modelChannels());
        assertEquals(List.of(1, 2), model.config().unet().attentionResolutions());
        assertEquals(32, model.config().text().width());
    }

    @Test
    void tokenizerReproducesReferenceIds() {
        try (NDManager m = manager.newSubManager()) {
            assertArrayEquals(v(m, "text.ids").toLongArray(),
                    model.tokenIds(m, List.of("a photo of a cat", "")).toLongArray());
            assertArrayEquals(v(m, "ddim.cond_ids").toLongArray(),
                    model.tokenIds(m, List.of("a red circle")).toLongArray());
        }
    }

    @Test
    void textEncoderMatchesWithAndWithoutClipSkip() {
        try (NDManager m = manager.newSubManager()) {
            NDArray ids = v(m, "text.ids");
            near(v(m, "text.last"), model.textEncoder().encode(ids, 1), 1e-4, "text.last");
            near(v(m, "text.skip2"), model.textEncoder().encode(ids, 2), 1e-4, "text.skip2");
        }
    }

    @Test
    void unetMatches() {
        try (NDManager m = manager.newSubManager()) {
            NDArray out = model.unet().forward(v(m, "unet.x"), v(m, "unet.t"), v(m, "unet.context"));
            near(v(m, "unet.out"), out, 1e-4, "unet.out");
        }
    }

    @Test
    void vaeMatches() {
        try (NDManager m = manager.newSubManager()) {
            var post = model.vae().encode(v(m, "vae.image"));
            near(v(m, "vae.mean"), post.mean(), 1e-4, "vae.mean");
            near(v(m, "vae.logvar"), post.logvar(), 1e-4, "vae.logvar");
            near(v(m, "vae.decoded"), model.vae().decode(v(m, "vae.z")), 1e-4, "vae.decoded");
        }
    }

    @Test
    void scheduleMatches() {
        try (NDManager m = manager.newSubManager()) {
            near(v(m, "schedule.alphas_cumprod"), model.schedule().alphasCumprod(), 0, "alphas_cumprod");
        }
    }
}
