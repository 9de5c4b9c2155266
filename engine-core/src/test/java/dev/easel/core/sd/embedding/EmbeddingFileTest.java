package dev.easel.core.sd.embedding;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.easel.core.convert.FloatConversion;
import dev.easel.core.sd.ParityFixtures;
import dev.easel.core.sd.hooks.SdNetworkHooks;
import dev.easel.core.sd.model.ModelLoadException;
import dev.easel.core.sd.model.RandomModels;
import dev.easel.core.sd.model.SdModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Embedding files torch wrote (engine-core/src/test/fixtures/make_embedding_fixtures.py): every layout A1111 loads is
 * read with the right word and exact vectors; what is not one embedding for SD1/SD2 is refused by name.
 */
class EmbeddingFileTest {
    private static final Path DIR = Path.of("src/test/resources/formats/embeddings");

    @TempDir
    Path tmp;

    /** The fixture script's values. */
    static float[] expected(int rows, int width) {
        float[] v = new float[rows * width];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (Math.round(Math.sin(0.37 * i + 0.5) * 0.25 * 1e6) / 1e6);
        }
        return v;
    }

    @Test
    void a1111PtIsCalledByItsFileName() throws IOException {
        EmbeddingFile e = EmbeddingFile.read(DIR.resolve("my-style.pt"));
        assertEquals(EmbeddingLayout.A1111, e.layout());
        assertEquals(List.of("my-style"), e.words());
        assertEquals(2, e.rows());
        assertEquals(768, e.width());
        assertArrayEquals(expected(2, 768), e.vectors());
        assertEquals("my-style (A1111, 2 vectors of 768)", e.describe());
    }

    @Test
    void sd2WidthAndOldParameterDictFiles() throws IOException {
        EmbeddingFile sd2 = EmbeddingFile.read(DIR.resolve("sd2-thing.pt"));
        assertEquals(1024, sd2.width());
        assertArrayEquals(expected(1, 1024), sd2.vectors());
        EmbeddingFile old = EmbeddingFile.read(Path.of("src/test/resources/formats/pytorch/ti-parameterdict.pt"));
        assertEquals(EmbeddingLayout.A1111, old.layout());
        assertEquals(List.of("ti-parameterdict"), old.words());
        assertEquals(8, old.width());
    }

    @Test
    void diffusersFilesAnswerToTheirTokenAndFileName() throws IOException {
        EmbeddingFile e = EmbeddingFile.read(DIR.resolve("learned_embeds.bin"));
        assertEquals(EmbeddingLayout.DIFFUSERS, e.layout());
        assertEquals(List.of("<cat-toy>", "learned_embeds"), e.words());
        assertEquals(1, e.rows(), "a 1-D vector is one row");
        assertArrayEquals(expected(1, 768), e.vectors());
    }

    @Test
    void kohyaFilesInTorchAndSafetensors() throws IOException {
        EmbeddingFile st = EmbeddingFile.read(DIR.resolve("tiny-kohya.safetensors"));
        assertEquals(EmbeddingLayout.KOHYA, st.layout());
        assertEquals(List.of("tiny-kohya"), st.words());
        assertArrayEquals(expected(2, 32), st.vectors());
        EmbeddingFile half = EmbeddingFile.read(DIR.resolve("tiny-kohya.pt"));
        float[] rounded = expected(2, 32);
        for (int i = 0; i < rounded.length; i++) {
            rounded[i] = FloatConversion.f16ToF32(FloatConversion.f32ToF16(Float.floatToRawIntBits(rounded[i])));
        }
        assertArrayEquals(rounded, half.vectors(), "fp16 vectors widened exactly");
    }

    @Test
    void theFormatComesFromTheContentNotTheExtension() throws IOException {
        Path renamed = tmp.resolve("renamed.safetensors");
        Files.copy(DIR.resolve("tinyconcept.pt"), renamed);
        EmbeddingFile e = EmbeddingFile.read(renamed);
        assertEquals(EmbeddingLayout.A1111, e.layout());
        assertEquals(List.of("renamed"), e.words());
    }

    @Test
    void whatIsNotOneEmbeddingIsRefusedByName() throws IOException {
        assertMessage("sdxl-thing.safetensors", "SDXL embedding");
        assertMessage("two-terms.pt", "2 terms in string_to_param");
        assertMessage("two-tensors.pt", "holds 2 tensors (a, b)");
        Path model = tmp.resolve("junk.pt");
        Files.writeString(model, "hello, not a tensor file");
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> EmbeddingFile.read(model));
        assertTrue(e.getMessage().startsWith(model.toString()), e.getMessage());
        assertThrows(ModelLoadException.class, () -> EmbeddingFile.read(tmp.resolve("missing.pt")));
    }

    private static void assertMessage(String file, String part) {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> EmbeddingFile.read(DIR.resolve(file)));
        assertTrue(e.getMessage().contains(part) && e.getMessage().contains(file), e.getMessage());
    }

    @Test
    void loadedEmbeddingsAreFrozenRowsPromptsCallByName() throws IOException {
        try (NDManager manager = ParityFixtures.runtime().newManager();
             SdModel model = SdModel.random(RandomModels.tinyConfig(), 5, manager)) {
            SdNetworkHooks hooks = new SdNetworkHooks(model, manager);
            EmbeddingFile e = EmbeddingFile.read(DIR.resolve("tiny-diffusers.bin"));
            hooks.addEmbedding(e);
            int[] ids = model.tokenizer().encode("a <tiny-concept> photo");
            assertEquals(List.of(320, 49408, 49409, 1125), java.util.Arrays.stream(ids).boxed().toList());
            assertArrayEquals(ids, model.tokenizer().encode("a tiny-diffusers photo"), "the file name works too");
            try (NDManager step = manager.newSubManager()) {
                hooks.setWorkManager(step);
                NDArray ids2 = step.create(new int[] {49408, 49409});
                NDArray rows = model.textEncoder().tokenEmbedding().forward(ids2);
                assertArrayEquals(expected(2, 32), rows.toFloatArray());
            }
            IllegalArgumentException wide = assertThrows(IllegalArgumentException.class,
                    () -> hooks.addEmbedding(EmbeddingFile.read(DIR.resolve("my-style.pt"))));
            assertTrue(wide.getMessage().contains("width 768") && wide.getMessage().contains("has 32")
                    && wide.getMessage().contains("SD1's"), wide.getMessage());
        }
    }
}
